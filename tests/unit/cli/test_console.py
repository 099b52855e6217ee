"""collector/cli/console.py: `collector console` will not start on a bind it must not serve on, and says why."""

from __future__ import annotations

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


def test_console_will_not_offer_replay_without_its_key(capsys, environ, tmp_path):
    environ.setenv("COLLECTOR_DATA_DIR", str(tmp_path))
    code, _, err = run(capsys, "console", "--allow-replay")
    assert (code, err) == (
        2,
        "collector: --allow-replay needs COLLECTOR_CONSOLE_KEY: a console that replays must ask for its key\n",
    )
