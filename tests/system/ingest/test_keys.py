"""Write keys through gunicorn: strangers get 401, keys are never logged nor stored, limits count per key."""

from __future__ import annotations

import base64

import pytest

from collector.ingest.keys import key_id
from tests.system.ingest.test_hostile_input import HEAD, raw_exchange

pytestmark = pytest.mark.system

KEY = "k3y-0123456789abcdef-system"
OTHER = "another-key-0123456789"
EVENT = {"messageBody": [{"eventType": "signup"}]}


def every_file_under(path) -> bytes:
    return b"".join(f.read_bytes() for f in sorted(path.rglob("*")) if f.is_file())


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_a_key_is_never_logged_nor_stored_however_it_is_sent(start_service, log_format):
    service = start_service(api_keys=f"{KEY},{OTHER}", log_format=log_format)
    sent = [
        service.post(EVENT, headers={"Authorization": f"Bearer {KEY}"}),
        service.post(EVENT, headers={"X-Collector-Key": KEY}),
        service.post(EVENT, params={"writeKey": KEY}),
        service.post(EVENT, params={"a": "1", "writeKey": KEY}),
    ]
    assert [response.status_code for response in sent] == [201] * 4
    wrong = service.post(EVENT, params={"writeKey": KEY + "-wrong"})
    missing = service.post(EVENT)
    assert (wrong.status_code, wrong.json()["code"]) == (401, "invalid_write_key")
    assert (missing.status_code, missing.json()["code"]) == (401, "missing_write_key")
    assert missing.headers["WWW-Authenticate"] == 'Bearer realm="collector"'
    service.stop()
    assert [event["client"]["keyId"] for event in service.events()] == [key_id(KEY)] * 4
    log = service.log()
    assert KEY not in log and KEY not in every_file_under(service.data_dir).decode(errors="replace")
    if log_format == "text":
        # The request line is logged, with the key's value redacted.
        assert '"POST /collect/event?writeKey=[redacted] HTTP/1.1" 201' in log
        assert '"POST /collect/event?a=1&writeKey=[redacted] HTTP/1.1" 201' in log
        assert '"POST /collect/event?writeKey=[redacted] HTTP/1.1" 401' in log


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_a_key_sent_the_wrong_way_is_never_logged_either(start_service, log_format):
    service = start_service(api_keys=KEY, log_format=log_format)
    basic = "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()  # as Segment-style clients send it
    refused = [
        service.post(EVENT, headers={"Authorization": basic}),
        service.post(EVENT, params={"writekey": KEY}),
        service.post(EVENT, params={"WriteKey": KEY}),
    ]
    assert [(r.status_code, r.json()["code"]) for r in refused] == [(401, "missing_write_key")] * 3
    # A header line without its colon: gunicorn refuses it and logs why.
    for line in (f"X-Collector-Key {KEY}", f"Authorization Bearer {KEY}", KEY):
        reply = raw_exchange(service, HEAD + line.encode() + b"\r\nContent-Length: 2\r\n\r\n{}")
        assert reply.startswith(b"HTTP/1.1 400 ")
    # A header line read as the next request's line (a body shorter than its Content-Length said).
    reply = raw_exchange(
        service, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" + f"X-Collector-Key: {KEY}\r\n\r\n".encode()
    )
    assert b"HTTP/1.1 400 " in reply
    service.stop()
    log = service.log()
    assert KEY not in log
    assert "Invalid HTTP Header: 'X-Collector-Key [redacted]'" in log
    assert "Invalid HTTP Header: 'Authorization [redacted]'" in log
    assert "Invalid HTTP request line: 'X-Collector-Key [redacted]'" in log
    if log_format == "text":
        assert '"POST /collect/event?writekey=[redacted] HTTP/1.1" 401' in log


def test_limits_count_per_key_with_rate_limit_by_key(start_service):
    service = start_service(api_keys=f"{KEY},{OTHER}", rate_limit="2 per hour", rate_limit_by="key", trusted_proxies=1)
    statuses = [
        service.post(EVENT, headers={"X-Collector-Key": KEY, "X-Forwarded-For": address}).status_code
        for address in ("198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.3")
    ]
    assert statuses == [201, 201, 429, 429]
    # The last address was refused for KEY; with OTHER it has a limit of its own.
    assert service.post(EVENT, headers={"X-Collector-Key": OTHER, "X-Forwarded-For": "198.51.100.3"}).status_code == 201
