"""Who may ask the console: with a key, whoever carries it; without one, only under a loopback name."""

from __future__ import annotations

import pytest

from collector.console.app import create_app
from collector.errors import CODES
from collector.settings import load_settings

KEY = "console-key-0123456789"


@pytest.fixture
def make_console(tmp_path):
    def make(key=None):
        settings = load_settings(environ={"COLLECTOR_DATA_DIR": str(tmp_path / "data")})
        return create_app(settings, key=key).test_client()

    return make


@pytest.mark.parametrize(
    "host", ["localhost", "localhost:8700", "127.0.0.1", "127.0.0.1:8700", "[::1]", "[::1]:8700", "LOCALHOST:8700"]
)
def test_without_a_key_loopback_names_are_answered(make_console, host):
    assert make_console().get("/api/events", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize(
    "host",
    ["attacker.example", "attacker.example:8700", "127.0.0.1.nip.io:8700", "localhost.attacker.example",
     "127.0.0.2:8700", "[::2]:8700", "10.0.0.5:8700", "localhost:8700@attacker.example", "localhost:notaport"],
)
def test_without_a_key_another_host_name_is_rejected_as_dns_rebinding(make_console, host):
    client = make_console()
    for path in ("/", "/api/events", "/api/overview", "/static/console.js"):
        answer = client.get(path, headers={"Host": host})
        assert answer.status_code == 403, (path, answer.status_code)
        body = answer.get_json()
        assert body["code"] == "host_not_allowed" and body["code"] in CODES
        assert (body["statusCode"], body["error"]) == (403, "Forbidden")
        assert "COLLECTOR_CONSOLE_KEY" in body["message"]


def test_with_a_key_any_host_name_is_answered_with_the_key(make_console):
    client = make_console(KEY)
    headers = {"Host": "console.example:8700", "Authorization": f"Bearer {KEY}"}
    assert client.get("/api/events", headers=headers).status_code == 200
    assert client.get("/api/events", headers={"Host": "console.example:8700"}).status_code == 401
