"""`collector export`: the command's shape (the export itself: tests/unit/loaders/test_parquet.py)."""

import pytest

from tests.unit.cli.helpers import run


def test_export_without_a_format_prints_its_help(capsys):
    code, out, _ = run(capsys, "export")
    assert code == 2 and "parquet" in out


def test_export_parquet_needs_a_target(capsys, tmp_path):
    with pytest.raises(SystemExit) as exited:
        run(capsys, "export", "parquet", "--data-dir", str(tmp_path))
    assert exited.value.code == 2
    assert "--to" in capsys.readouterr().err


def test_export_parquet_makes_its_target_but_not_its_parents(capsys, tmp_path):
    code, _, err = run(capsys, "export", "parquet", "--to", str(tmp_path / "no" / "such"), "--data-dir", str(tmp_path))
    assert code == 2 and "no directory" in err and not (tmp_path / "no").exists()
    code, out, _ = run(capsys, "export", "parquet", "--to", str(tmp_path / "out"), "--data-dir", str(tmp_path))
    assert (code, out) == (0, "exported 0 files, 0 events\n") and (tmp_path / "out").is_dir()
