"""collector/cli/settings.py: `collector settings` shows what the service would read,
and stops where the service would not start.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from collector import cli
from collector.settings import declarations, markdown_table
from tests.servers import ROOT
from tests.unit.cli.helpers import run
from tests.unit.settings.invalid_values import BIND, INVALID_VALUES, WORKERS_NEED_SHARED_STORAGE, not_valid


def test_settings_prints_every_variable_with_its_value_and_default(capsys, environ):
    environ.setenv("COLLECTOR_FSYNC", "always")
    code, out, _ = run(capsys, "settings")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["variable", "value", "default", "meaning"]
    fsync = next(line for line in lines if line.startswith("COLLECTOR_FSYNC "))
    assert fsync.split()[1:3] == ["always", "interval"]
    assert [line.split()[0] for line in lines[1:]] == [setting.env for setting in declarations()]


def test_settings_shows_values_as_written_in_aligned_columns(capsys, environ):
    environ.setenv("COLLECTOR_ROTATE_SECONDS", "7200.0")
    environ.setenv("COLLECTOR_HOST_NAME", "web-1")
    code, out, _ = run(capsys, "settings")
    assert code == 0
    header, *lines = out.splitlines()
    starts = [header.index(title) for title in ("value", "default", "meaning")]
    table = {
        line.split()[0]: [line[a:b].rstrip() for a, b in zip([0, *starts], [*starts, None], strict=True)]
        for line in lines
    }
    assert table["COLLECTOR_ROTATE_SECONDS"][1:3] == ["7200", "3600"]
    assert table["COLLECTOR_DATA_DIR"][1:3] == ["./data", "./data"]
    assert table["COLLECTOR_WORKERS"][1:3] == ["auto", "auto"]
    assert table["COLLECTOR_EVENT_TYPES"][1:3] == ["(empty)", "(empty)"]
    assert table["COLLECTOR_RETENTION_DAYS"][1:3] == ["(empty)", "(empty)"]
    assert table["COLLECTOR_HOST_NAME"][1:3] == ["web-1", "(empty)"]
    assert table["COLLECTOR_FSYNC"][3].endswith(
        "always, interval or never; see Durability (docs/stored-lines-and-files.md)"
    )


def test_settings_markdown_is_the_readme_table_and_needs_no_valid_environment(capsys, environ):
    environ.setenv("COLLECTOR_FSYNC", "sometimes")
    code, out, _ = run(capsys, "settings", "--markdown")
    assert code == 0 and out == markdown_table()


def test_settings_names_an_invalid_variable(capsys, environ):
    environ.setenv("COLLECTOR_FSYNC", "sometimes")
    code, _, err = run(capsys, "settings")
    assert code == 2
    assert err.strip() == "collector: COLLECTOR_FSYNC='sometimes' is not valid: expected one of always, interval, never"


@pytest.mark.parametrize("variable, value, expected", INVALID_VALUES)
def test_settings_stops_where_the_service_would_not_start_in_one_line(capsys, environ, variable, value, expected):
    environ.setenv(variable, value)
    code, out, err = run(capsys, "settings")
    assert (code, out, err) == (2, "", f"collector: {not_valid(variable, value, expected)}\n")


def test_settings_stops_at_several_workers_with_memory_storage(capsys, environ):
    environ.setenv("COLLECTOR_WORKERS", "3")
    environ.setenv("COLLECTOR_RATE_LIMIT_STORAGE", "memory://")
    code, _, err = run(capsys, "settings")
    assert (code, err) == (2, f"collector: {WORKERS_NEED_SHARED_STORAGE}\n")


def test_settings_stops_at_a_data_directory_under_a_file_and_creates_nothing(capsys, environ, tmp_path):
    (tmp_path / "file").write_text("a file")
    environ.setenv("COLLECTOR_DATA_DIR", str(tmp_path / "file" / "data"))
    code, _, err = run(capsys, "settings")
    assert code == 2 and err.endswith(f": {tmp_path / 'file'} is not a directory\n")
    environ.setenv("COLLECTOR_DATA_DIR", str(tmp_path / "new" / "data"))
    assert run(capsys, "settings")[0] == 0
    assert not (tmp_path / "new").exists()


def test_settings_command_stops_without_a_traceback():
    env = {"PATH": "/usr/bin:/bin", "COLLECTOR_BIND": "127.0.0.1:99999"}
    result = subprocess.run(
        [sys.executable, "-m", "collector", "settings"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == f"collector: {not_valid('COLLECTOR_BIND', '127.0.0.1:99999', BIND)}\n"


def test_settings_stops_at_an_event_age_past_a_century(capsys, monkeypatch):
    # It once passed here, then every event with a timestamp got 500.
    monkeypatch.setenv("COLLECTOR_MAX_EVENT_AGE_DAYS", "1000000")
    assert cli.main(["settings"]) == 2
    assert capsys.readouterr().err.strip() == (
        "collector: COLLECTOR_MAX_EVENT_AGE_DAYS='1000000' is not valid: expected a number of days from 0.001 to 36500"
    )


def test_settings_reads_an_environment_file_as_systemd_does(capsys, monkeypatch, tmp_path):
    # `(set -a; . collector.env; collector settings)` ran `per` as a command and showed the default.
    env = tmp_path / "collector.env"
    env.write_text(f"# as in docs/deploying.md\nCOLLECTOR_DATA_DIR={tmp_path}\nCOLLECTOR_RATE_LIMIT=10 per minute\n")
    monkeypatch.setenv("COLLECTOR_THREADS", "7")  # the caller's shell: the service does not see it
    assert cli.main(["settings", "--env-file", str(env)]) == 0
    rows = {row[0]: row[1] for row in (re.split(" {2,}", line) for line in capsys.readouterr().out.splitlines())}
    assert rows["COLLECTOR_RATE_LIMIT"] == "10 per minute"
    assert rows["COLLECTOR_THREADS"] == "4"


def test_settings_stops_at_a_missing_environment_file_in_one_line(capsys, tmp_path):
    assert cli.main(["settings", "--env-file", str(tmp_path / "nope.env")]) == 2
    assert capsys.readouterr().err.strip() == f"collector: --env-file '{tmp_path}/nope.env': No such file or directory"
