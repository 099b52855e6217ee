"""Hostile and unusual input against the real service: a 4xx in the contract's shape, or
the event stored exactly as sent and read back by our own tools; never a 500.

Each case was found tried as a new user would (the start_service fixture also
fails any test whose service answered 500 or logged a traceback).
"""

from __future__ import annotations

import socket
import subprocess
import sys

import orjson
import pytest
import requests

from collector import jsontext
from tests.processes import ROOT

pytestmark = pytest.mark.system

HEAD = b"POST /collect/event HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"


def raw_exchange(service, request: bytes, *, close_write: bool = True) -> bytes:
    """Send raw bytes; the status line and body of the answer (b"" if none came)."""
    with socket.create_connection(("127.0.0.1", service.port), timeout=10) as conn:
        conn.sendall(request)
        if close_write:
            conn.shutdown(socket.SHUT_WR)
        reply = b""
        try:
            while chunk := conn.recv(65536):
                reply += chunk
        except ConnectionResetError:
            pass
    return reply


def status_and_code(reply: bytes) -> tuple[int, str | None]:
    head, _, body = reply.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, orjson.loads(body).get("code") if body.startswith(b"{") else None


def test_a_chunked_body_with_a_bad_chunk_size_is_a_400(start_service):
    service = start_service()
    reply = raw_exchange(service, HEAD + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n")
    assert status_and_code(reply) == (400, "body_unreadable")
    assert service.events() == []


def test_a_client_gone_in_the_middle_of_a_chunked_body_stores_nothing(start_service):
    service = start_service()
    reply = raw_exchange(service, HEAD + b'Transfer-Encoding: chunked\r\n\r\n40\r\n{"messageBody": [')
    assert reply == b"" or status_and_code(reply) == (400, "body_unreadable")
    assert service.post({"messageBody": [{"eventType": "after"}]}).status_code == 201
    assert [event["eventType"] for event in service.events()] == ["after"]


def test_a_transfer_coding_the_service_does_not_decode_is_refused(start_service):
    service = start_service()
    body = b'{"messageBody": [{"eventType": "gz"}]}'
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    reply = raw_exchange(service, HEAD + b"Transfer-Encoding: gzip, chunked\r\n\r\n" + chunked)
    assert status_and_code(reply) == (400, "unsupported_transfer_coding")
    assert service.events() == []


def test_a_content_encoding_the_service_does_not_decode_is_refused(start_service):
    service = start_service()
    response = service.post({"messageBody": [{"eventType": "br"}]}, headers={"Content-Encoding": "br"})
    assert (response.status_code, response.json()["code"]) == (415, "unsupported_content_encoding")
    assert service.events() == []


@pytest.mark.parametrize("where", ["properties", "messageheader"])
def test_an_out_of_range_float_beside_a_big_integer_is_a_400(start_service, where):
    service = start_service()
    numbers = b'{"k": 1e999, "n": 123456789012345678901234}'
    if where == "properties":
        body = b'{"messageBody": [{"eventType": "a", "properties": ' + numbers + b"}]}"
    else:
        body = b'{"messageBody": [{"eventType": "a"}], "messageheader": ' + numbers + b"}"
    response = service.post(body)
    assert (response.status_code, response.json()["code"]) == (400, "number_out_of_range")
    assert service.events() == []


def test_an_out_of_range_float_is_refused_whichever_parser_reads_it(start_service):
    service = start_service()
    for user_id in ("x", "x,12345678901234567890"):
        body = {"messageBody": [{"eventType": "a", "userId": user_id, "properties": {"k": 0}}]}
        text = orjson.dumps(body).replace(b'"k":0', b'"k":1e400')
        response = service.post(text)
        assert (response.status_code, response.json()["code"]) == (400, "number_out_of_range")
    assert service.events() == []


def test_big_integers_are_stored_exactly_and_every_reader_reads_them(start_service):
    service = start_service()
    big = int("9" * 100)
    batch = [{"eventType": "big", "properties": {"n": big, "i": index}} for index in range(30)]
    assert service.post(jsontext.dumps_line({"messageBody": batch})).status_code == 201
    too_big = service.post(b'{"messageBody": [{"eventType": "a", "properties": {"n": ' + b"9" * 5000 + b"}}]}")
    assert (too_big.status_code, too_big.json()["code"]) == (400, "number_out_of_range")
    assert "set_int_max_str_digits" not in too_big.json()["message"]
    service.stop()
    env = {"COLLECTOR_DATA_DIR": str(service.data_dir), "PATH": "/usr/bin:/bin"}
    cat = subprocess.run(
        [sys.executable, "-m", "collector", "events", "cat"], cwd=ROOT, env=env, capture_output=True, timeout=60
    )
    assert (cat.returncode, cat.stderr) == (0, b"")
    lines = cat.stdout.splitlines()
    assert len(lines) == 30
    assert all(b'"n":' + b"9" * 100 + b"," in line for line in lines)
    for command in (["events", "verify"], ["events", "stats"]):
        result = subprocess.run(
            [sys.executable, "-m", "collector", *command], cwd=ROOT, env=env, capture_output=True, timeout=60
        )
        assert (result.returncode, result.stderr) == (0, b""), command
    assert b"30 events" in result.stdout


def test_a_utf8_user_agent_is_stored_as_sent(start_service):
    service = start_service()
    # Cyrillic on purpose (a User-Agent outside Latin-1); U+2028 in UTF-8 holds the byte 0x85: a C1 control as Latin-1.
    agent = "MyApp (ТЕСТ) \u2028 café"  # noqa: RUF001
    reply = raw_exchange(
        service,
        HEAD + b"User-Agent: " + agent.encode() + b"\r\nContent-Length: 36\r\n\r\n"
        b'{"messageBody":[{"eventType":"ua"}]}',
    )
    assert status_and_code(reply)[0] == 201
    invalid = raw_exchange(
        service,
        HEAD + b"User-Agent: bad \xff\xfe end\r\nContent-Length: 36\r\n\r\n" b'{"messageBody":[{"eventType":"ua"}]}',
    )
    assert status_and_code(invalid)[0] == 201
    # Stopped first: a worker logs a request after answering it, so its line
    # may not be written yet; and with two workers neither the files nor the
    # lines need follow the order of the requests.
    service.stop()
    agents = sorted(event["client"]["userAgent"] for event in service.events())
    assert agents == sorted([agent, "bad \ufffd\ufffd end"])
    # The access log shows the same text, one request per line: nothing in it breaks a line.
    access = [orjson.loads(line) for line in service.log().splitlines() if '"logger":"access"' in line]
    posted = [entry for entry in access if entry["path"] == "/collect/event"]
    assert sorted(entry["userAgent"] for entry in posted) == agents
    assert "\u2028" not in service.log() and "\x85" not in service.log()


def test_a_forwarded_for_that_is_not_an_address_is_not_stored(start_service):
    service = start_service(trusted_proxies="1")
    response = service.post(
        {"messageBody": [{"eventType": "fwd"}]}, headers={"X-Forwarded-For": "garbage<script>"}
    )
    assert response.status_code == 201
    [event] = service.events()
    assert event["client"]["ip"] is None
    metrics = requests.get(service.url + "/metrics", timeout=10).text
    assert "collector_invalid_client_addresses_total 1.0" in metrics
