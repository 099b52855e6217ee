"""collector/console/server.py: where the console may listen, said before gunicorn starts."""

from __future__ import annotations

import pytest

from collector.console.server import bind_problem

KEY = "k" * 16


@pytest.mark.parametrize("bind", ["127.0.0.1:8700", "[::1]:8700", "localhost:8700"])
def test_loopback_needs_no_key(bind):
    assert bind_problem(bind, "") is None


def test_a_bind_off_loopback_needs_the_key():
    assert bind_problem("0.0.0.0:8700", "").startswith("--bind 0.0.0.0:8700 is reachable from other machines")
    assert bind_problem("0.0.0.0:8700", KEY) is None


@pytest.mark.parametrize("bind", ["nonsense", "127.0.0.1:0", "unix:/run/console.sock"])
def test_an_address_the_console_cannot_listen_on_is_said_not_valid(bind):
    assert bind_problem(bind, KEY) == (
        f"--bind {bind!r} is not valid: expected HOST:PORT or [IPv6]:PORT with a port from 1 to 65535"
    )
