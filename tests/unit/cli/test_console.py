"""collector/cli/console.py: `collector console` will not start on a bind it must not serve on, and says why."""

from __future__ import annotations

from pathlib import Path

import pytest

from collector.console.server import ConsoleServer
from collector.console.stores import MAX_DIRECTORIES
from tests.unit.cli.helpers import run


def test_console_will_not_start_off_loopback_without_a_key(capsys, environ, tmp_path):
    environ.setenv("COLLECTOR_DATA_DIR", str(tmp_path))
    code, _, err = run(capsys, "console", "--bind", "0.0.0.0:8700")
    assert (code, err) == (
        2,
        "collector: --bind 0.0.0.0:8700 is reachable from other machines: set COLLECTOR_CONSOLE_KEY "
        "(at least 16 characters), or bind to loopback and use an SSH tunnel\n",
    )
    assert run(capsys, "console", "--bind", "nonsense")[2].startswith("collector: --bind 'nonsense' is not valid")


@pytest.fixture
def served(monkeypatch):
    """What `collector console` would serve: the ConsoleServer it builds, not run."""
    built = []
    monkeypatch.setattr(ConsoleServer, "run", lambda self: built.append(self))
    return built


def test_the_console_reads_every_data_directory_named(capsys, environ, tmp_path, served):
    environ.setenv("COLLECTOR_DATA_DIR", str(tmp_path / "default"))
    for vm in ("vm-a", "vm-b", "vm-c"):
        (tmp_path / vm).mkdir()
    code, _, err = run(capsys, "console", "--data-dir", str(tmp_path / "vm-a"), str(tmp_path / "vm-b"),
                       "--data-dir", str(tmp_path / "vm-c"))
    assert (code, err) == (0, "")
    [server] = served
    assert server.data_dirs == [tmp_path / "vm-a", tmp_path / "vm-b", tmp_path / "vm-c"]
    # Without --data-dir, COLLECTOR_DATA_DIR, as before (which the collector may not have created yet).
    assert run(capsys, "console")[0] == 0
    assert served[1].data_dirs == [tmp_path / "default"]


def test_a_data_directory_that_is_not_there_is_said_before_serving(capsys, environ, tmp_path, served):
    environ.setenv("COLLECTOR_DATA_DIR", str(tmp_path))
    code, _, err = run(capsys, "console", "--data-dir", str(tmp_path), str(tmp_path / "typo"))
    assert (code, err) == (2, f"collector: no data directory at {tmp_path / 'typo'}\n")
    many = [str(tmp_path / f"vm-{n}") for n in range(MAX_DIRECTORIES + 1)]
    for path in many:
        Path(path).mkdir()
    code, _, err = run(capsys, "console", "--data-dir", *many)
    assert (code, err) == (
        2, f"collector: the console reads 1 to {MAX_DIRECTORIES} data directories; got {MAX_DIRECTORIES + 1}\n"
    )
    assert served == []


def test_console_will_not_offer_replay_without_its_key(capsys, environ, tmp_path):
    environ.setenv("COLLECTOR_DATA_DIR", str(tmp_path))
    code, _, err = run(capsys, "console", "--allow-replay")
    assert (code, err) == (
        2,
        "collector: --allow-replay needs COLLECTOR_CONSOLE_KEY: a console that replays must ask for its key\n",
    )


def test_console_will_not_replay_over_several_data_directories(capsys, environ, tmp_path, served):
    environ.setenv("COLLECTOR_CONSOLE_KEY", "k" * 20)
    for vm in ("vm-a", "vm-b"):
        (tmp_path / vm).mkdir()
    environ.setenv("COLLECTOR_DATA_DIR", str(tmp_path / "vm-a"))
    both = [str(tmp_path / "vm-a"), str(tmp_path / "vm-b")]
    code, _, err = run(capsys, "console", "--allow-replay", "--data-dir", *both)
    assert code == 2 and err.startswith("collector: --allow-replay replays into the one data directory")
    assert served == []
    # One directory named: the settings read with it as the data directory, the one replays store into.
    assert run(capsys, "console", "--allow-replay", "--data-dir", str(tmp_path / "vm-b"))[0] == 0
    [server] = served
    assert server.allow_replay and server.data_dirs == [tmp_path / "vm-b"] == [server.settings.data_dir]
