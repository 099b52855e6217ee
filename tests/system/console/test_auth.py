"""The real `collector console` process against DNS rebinding: without a key, only loopback Host names are answered."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

import orjson
import pytest

from collector.errors import CODES

pytestmark = pytest.mark.system


def get(url: str, path: str, host: str) -> tuple[int, bytes]:
    """GET `path` from the console at `url` with this exact Host header (as a rebound page's browser sends it)."""
    place = urlsplit(url)
    connection = http.client.HTTPConnection(place.hostname, place.port, timeout=30)
    try:
        connection.putrequest("GET", path, skip_host=True)
        connection.putheader("Host", host)
        connection.endheaders()
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def test_a_rebound_name_gets_a_json_error_and_loopback_names_the_events(start_service, start_console):
    service = start_service()
    assert service.post({"messageBody": [{"eventType": "secret_stuff"}]}).status_code == 201
    console = start_console(service.data_dir, service.url + "/metrics")
    port = urlsplit(console).port
    for host in ("attacker.example", f"attacker.example:{port}", f"rebind.attacker.example:{port}"):
        status, body = get(console, "/api/events", host)
        error = orjson.loads(body)
        assert (status, error["code"]) == (403, "host_not_allowed") and error["code"] in CODES
        assert b"secret_stuff" not in body
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "localhost", f"[::1]:{port}"):
        status, body = get(console, "/api/events", host)
        assert status == 200 and [e["eventType"] for e in orjson.loads(body)["events"]] == ["secret_stuff"]
