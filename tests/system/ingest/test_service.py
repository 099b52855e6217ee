"""The real service under gunicorn, over HTTP: what a client and an operator see."""

from __future__ import annotations

import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import orjson
import pytest
import requests

pytestmark = pytest.mark.system

UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\Z")
CREATED = re.compile(rb'\{"headers": \{\}, "value": "\{\\"pingId\\": \\"([0-9a-f-]{36})\\"\}"\}\Z')


def ping_id_of(response: requests.Response) -> str:
    match = CREATED.match(response.content)
    assert match, response.content
    return match.group(1).decode()


def test_created_response_is_the_docs_shape_and_the_event_is_on_disk(start_service):
    service = start_service()
    response = service.post(
        {
            "messageBody": [{"eventType": "page_view", "properties": {"path": "/"}, "userId": "u1"}],
            "messageheader": {"appVersion": "1.2.3", "beta": True},
        },
        headers={"User-Agent": "test-agent/1.0"},
    )
    assert response.status_code == 201
    assert response.headers["Content-Type"] == "application/json"
    ping_id = ping_id_of(response)
    assert UUID4.match(ping_id)
    [event] = service.events()
    assert event["eventType"] == "page_view"
    assert event["properties"] == {"path": "/"}
    assert event["userId"] == "u1"
    assert event["pingId"] == ping_id
    assert UUID4.match(event["eventId"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", event["receivedAt"])
    assert event["messageheader"] == {"appVersion": "1.2.3", "beta": True}
    assert event["client"] == {"ip": "127.0.0.1", "userAgent": "test-agent/1.0"}


def test_every_response_of_the_endpoint_carries_rate_limit_headers(start_service):
    service = start_service(rate_limit="50 per minute")
    responses = [
        service.post({"messageBody": [{"eventType": "a"}]}),
        service.post({"messageBody": [{"eventType": ""}]}),
        service.post(b"{", headers={"Content-Type": "text/csv"}),
    ]
    assert [r.status_code for r in responses] == [201, 400, 415]
    for count, response in enumerate(responses, start=1):
        assert response.headers["X-RateLimit-Limit"] == "50"
        assert response.headers["X-RateLimit-Remaining"] == str(50 - count)
        reset = int(response.headers["X-RateLimit-Reset"])
        assert time.time() < reset <= time.time() + 61
        assert "Retry-After" not in response.headers


def test_limit_is_exact_under_concurrent_clients_in_the_default_setup(start_service):
    service = start_service(rate_limit="100 per hour")
    body = {"messageBody": [{"eventType": "burst"}]}
    with ThreadPoolExecutor(16) as pool:
        responses = list(pool.map(lambda _: service.post(body), range(16 * 10)))
    statuses = [r.status_code for r in responses]
    assert statuses.count(201) == 100
    assert statuses.count(429) == 60
    refused = next(r for r in responses if r.status_code == 429)
    assert refused.json() == {
        "error": "Too Many Requests",
        "message": "rate limit exceeded: 100 per 1 hour",
        "statusCode": 429,
        "code": "rate_limited",
    }
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    assert len(service.events()) == 100


def test_concurrent_clients_while_files_rotate_store_every_acknowledged_event_once(start_service):
    service = start_service(rate_limit="100000 per hour", rotate_bytes="20000", threads="4")
    acknowledged = []
    lock = threading.Lock()

    def client(number: int) -> None:
        with requests.Session() as session:
            for request in range(200):
                event_id = f"c{number}-r{request}-{uuid.uuid4()}"
                body = {"messageBody": [{"eventType": "load", "eventId": event_id, "properties": {"n": request}}]}
                response = session.post(
                    service.url + "/collect/event", json=body, timeout=30
                )
                assert response.status_code == 201, response.text
                with lock:
                    acknowledged.append(event_id)

    with ThreadPoolExecutor(16) as pool:
        for future in [pool.submit(client, n) for n in range(16)]:
            future.result()

    stored = [event["eventId"] for event in service.events()]
    assert len(acknowledged) == 16 * 200
    assert sorted(stored) == sorted(acknowledged)
    finished = list(service.data_dir.glob("events-*.jsonl"))
    assert len(finished) > 5, "the files should have rotated several times"


def test_unwritable_data_directory_gets_503_and_nothing_half_written(start_service, tmp_path):
    data_dir = tmp_path / "store"
    service = start_service(data_dir=data_dir, workers="1")
    assert service.post({"messageBody": [{"eventType": "before"}]}).status_code == 201
    # As root, permissions do not stop writes; a data directory replaced by a
    # plain file does, for root too.
    away = data_dir.rename(tmp_path / "away")
    data_dir.write_text("not a directory")

    response = service.post({"messageBody": [{"eventType": "during"}, {"eventType": "during"}]})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.json()["error"] == "Service Unavailable"
    assert service.post({"messageBody": [{"eventType": "during"}]}).status_code == 503
    # Once per outage in each worker that meets it (each worker tracks its own store).
    outage_lines = [line for line in service.log().splitlines() if "cannot store events" in line]
    pids = [orjson.loads(line)["pid"] for line in outage_lines]
    assert pids and len(pids) == len(set(pids)), "logged once per outage per worker"

    # The service never makes a data directory of its own after start-up
    # (collector/datadir.py): the operator puts the same one back, and it goes on.
    data_dir.unlink()
    away.rename(data_dir)
    assert service.post({"messageBody": [{"eventType": "after"}]}).status_code == 201
    types = [event["eventType"] for event in service.events()]
    assert types == ["before", "after"]


def test_oversized_bodies_are_413_with_and_without_content_length(start_service):
    service = start_service(max_body_bytes="1000")
    big = b'{"messageBody": [{"eventType": "a", "properties": {"pad": "' + b"x" * 5000 + b'"}}]}'
    declared = service.post(big)
    chunked = service.post(iter([big[:2000], big[2000:]]))
    for response in (declared, chunked):
        assert response.status_code == 413
        assert response.json() == {
            "error": "Request Entity Too Large",
            "message": "request body is larger than 1000 bytes",
            "statusCode": 413,
            "code": "body_too_large",
        }
        assert "X-RateLimit-Remaining" in response.headers
    assert service.events() == []


def test_errors_from_the_http_layer_are_json_too(start_service):
    service = start_service()
    missing = requests.get(service.url + "/collect/events", timeout=10)
    wrong_method = requests.put(service.url + "/collect/event", timeout=10)
    no_type = requests.post(service.url + "/collect/event", data=b"{}", timeout=10)
    assert [r.status_code for r in (missing, wrong_method, no_type)] == [404, 405, 415]
    codes = [r.json()["code"] for r in (missing, wrong_method, no_type)]
    assert codes == ["not_found", "method_not_allowed", "unsupported_media_type"]
    for response in (missing, wrong_method, no_type):
        assert response.headers["Content-Type"] == "application/json"
        assert set(response.json()) == {"error", "message", "statusCode", "code"}


def test_limit_is_exact_across_workers_sharing_memcached(start_service, memcached):
    service = start_service(rate_limit="60 per hour", rate_limit_storage=memcached.uri, workers="3")
    service.wait_for_workers(3)
    body = {"messageBody": [{"eventType": "shared"}]}
    with ThreadPoolExecutor(16) as pool:
        statuses = [r.status_code for r in pool.map(lambda _: service.post(body), range(96))]
    assert statuses.count(201) == 60
    assert statuses.count(429) == 36
    assert len(service.events()) == 60


def test_a_body_shorter_than_its_content_length_is_refused_and_nothing_stored(start_service):
    import socket

    service = start_service()
    body = b'{"messageBody": [{"eventType": "cut"}]}'
    with socket.create_connection(("127.0.0.1", service.port), timeout=10) as conn:
        conn.sendall(
            b"POST /collect/event HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % (len(body) + 50) + body
        )
        conn.shutdown(socket.SHUT_WR)
        reply = conn.recv(65536)
    assert reply == b"" or reply.startswith(b"HTTP/1.1 400")
    assert service.post({"messageBody": [{"eventType": "whole"}]}).status_code == 201
    assert [event["eventType"] for event in service.events()] == ["whole"]
    assert "Traceback" not in service.log()
