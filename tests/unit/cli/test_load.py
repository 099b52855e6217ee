"""`collector load`: the command's shape (the loading itself: tests/unit/loaders, against a real PostgreSQL)."""

import pytest

from tests.unit.cli.helpers import run


def test_load_without_a_target_prints_its_help(capsys, tmp_path):
    code, out, _ = run(capsys, "load")
    assert code == 2 and "postgres" in out


def test_load_postgres_needs_a_dsn(capsys, tmp_path):
    with pytest.raises(SystemExit) as exited:
        run(capsys, "load", "postgres", "--data-dir", str(tmp_path))
    assert exited.value.code == 2
    assert "--dsn" in capsys.readouterr().err
