"""Risky set-ups: they run, and `collector settings` and the start-up log say what they expose."""

from __future__ import annotations

import pytest

from collector import cli
from collector.settings import load_settings, risks


@pytest.mark.parametrize("bind", ["127.0.0.1:8000", "[::1]:8000", "localhost:8000", "unix:/run/collector.sock"])
def test_loopback_and_unix_sockets_are_not_exposed(bind):
    settings = load_settings(environ={"COLLECTOR_BIND": bind, "COLLECTOR_TRUSTED_PROXIES": "1"})
    assert risks(settings) == []


def test_a_public_bind_warns_about_slow_clients():
    [risk] = risks(load_settings(environ={"COLLECTOR_BIND": "0.0.0.0:8000"}))
    assert risk.startswith("COLLECTOR_BIND=0.0.0.0:8000 is not a loopback address")
    assert "nginx" in risk


def test_a_public_bind_with_a_trusted_proxy_warns_about_forged_addresses():
    found = risks(load_settings(environ={"COLLECTOR_BIND": "0.0.0.0:8000", "COLLECTOR_TRUSTED_PROXIES": "1"}))
    assert len(found) == 2 and "X-Forwarded-For" in found[1]


def test_collector_settings_prints_the_warning_on_stderr(capsys, monkeypatch):
    monkeypatch.setenv("COLLECTOR_BIND", "0.0.0.0:8000")
    assert cli.main(["settings"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("collector: warning: COLLECTOR_BIND=0.0.0.0:8000 is not a loopback address")


def test_the_start_up_log_warns_too(make_app, capsys):
    make_app(bind="0.0.0.0:8000")
    assert "COLLECTOR_BIND=0.0.0.0:8000 is not a loopback address" in capsys.readouterr().err
