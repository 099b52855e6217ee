"""collector/cli/__init__.py: the parser every command is added to, and what main() does for all of them."""

from __future__ import annotations

import subprocess
import sys

import pytest

from collector import cli
from tests.servers import ROOT
from tests.unit.cli.helpers import line, run


@pytest.mark.parametrize(
    "argv", [[], ["events"], ["events", "cat"], ["events", "verify"], ["events", "stats"], ["settings"]]
)
def test_every_command_has_help(capsys, argv):
    with pytest.raises(SystemExit) as exit_:
        cli.main([*argv, "--help"])
    assert exit_.value.code == 0
    assert "usage: collector" in capsys.readouterr().out


def test_missing_data_directory_is_an_error(capsys, tmp_path):
    code, _, err = run(capsys, "events", "verify", "--data-dir", str(tmp_path / "nowhere"))
    assert code == 2 and "no data directory" in err


def test_cat_into_a_pipe_closed_early_ends_without_a_traceback(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    lines = b"".join(
        line("a", f"2026-11-26T05:{n // 60 % 60:02d}:{n % 60:02d}.000Z", pad="x" * 200) for n in range(3000)
    )
    (data / "events-20261126T050000.000000Z-h-1-000001.jsonl").write_bytes(lines)
    pipeline = f"{sys.executable} -m collector events cat --data-dir {data} | head -n 1"
    result = subprocess.run(
        ["bash", "-o", "pipefail", "-c", pipeline], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.count("\n") == 1
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr
