"""The commands that write into the data directory run as its owner, the service's user, or refuse in one line.

Run as root (`sudo collector events forget ...`), they would leave files owned
by root there: an event file rewritten by the erasure that the service can no
longer compress, a Parquet ledger or an idempotency state the timers running
as `collector` can no longer write. Tried as a new user would: a `forget` run
with sudo, then the Parquet timer failing on every run after it.
"""

from __future__ import annotations

import os
import pwd

import pytest

from tests.unit.cli.helpers import run


@pytest.fixture
def not_the_owner(monkeypatch):
    """This process as a user who does not own the data directory, which it made (root, by habit, or anyone)."""
    owner = os.geteuid()
    monkeypatch.setattr(os, "geteuid", lambda: owner + 1)


WRITERS = [
    ["events", "forget", "--user-id", "u1"],
    ["events", "forget", "--anonymise", "--user-id", "u1"],
    ["deadletter", "replay"],
    ["export", "parquet", "--to", "{tmp}/parquet"],
]


@pytest.mark.parametrize("argv", WRITERS, ids=lambda argv: " ".join(argv[:2]))
def test_a_command_that_writes_into_the_data_directory_refuses_another_user(
    capsys, environ, data_dir, tmp_path, not_the_owner, argv
):
    environ.setenv("COLLECTOR_DATA_DIR", str(data_dir))
    before = sorted(path.name for path in data_dir.iterdir())
    code, _out, err = run(capsys, *[part.format(tmp=tmp_path) for part in argv], "--data-dir", str(data_dir))
    assert code == 2, err
    owner = pwd.getpwuid(data_dir.stat().st_uid).pw_name
    assert err.startswith(f"collector: {data_dir} belongs to user {owner}, ") and f"sudo -u {owner} " in err, err
    assert err.count("\n") == 1
    assert sorted(path.name for path in data_dir.iterdir()) == before  # nothing made there


def test_a_console_that_replays_refuses_another_user(capsys, environ, data_dir, not_the_owner):
    environ.setenv("COLLECTOR_DATA_DIR", str(data_dir))
    environ.setenv("COLLECTOR_CONSOLE_KEY", "k" * 20)
    code, _out, err = run(capsys, "console", "--allow-replay")
    assert code == 2 and err.startswith(f"collector: {data_dir} belongs to user "), err


def test_reading_commands_and_a_dry_run_need_not_be_the_owner(capsys, environ, data_dir, not_the_owner):
    assert run(capsys, "events", "cat", "--data-dir", str(data_dir))[0] == 0
    assert run(capsys, "events", "forget", "--dry-run", "--user-id", "u1", "--data-dir", str(data_dir))[0] == 0
    assert run(capsys, "events", "export", "--user-id", "u1", "--data-dir", str(data_dir))[0] == 0


def test_the_owner_is_not_refused(capsys, environ, data_dir):
    environ.setenv("COLLECTOR_DATA_DIR", str(data_dir))
    code, _out, err = run(capsys, "events", "forget", "--user-id", "nobody-here", "--data-dir", str(data_dir))
    assert code == 0, err
