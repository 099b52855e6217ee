"""The service's log as an operator reads it: JSON lines, each request with its pingId and code."""

from __future__ import annotations

import orjson
import pytest
import requests

from tests.system.ingest.test_service import ping_id_of

pytestmark = pytest.mark.system

SECRET = "a-property-value-that-must-never-be-logged"


def log_entries(service) -> list[dict]:
    lines = [line for line in service.log().splitlines() if line.strip()]
    return [orjson.loads(line) for line in lines]


def test_every_line_is_json_and_each_request_is_logged_with_its_ping_id_and_code(start_service):
    service = start_service(rate_limit="3 per hour")  # the 400 uses one too
    created = service.post({"messageBody": [{"eventType": "a", "properties": {"p": SECRET}}]})
    bad = service.post(b"{not json")
    service.post({"messageBody": [{"eventType": "a"}]})
    refused = service.post({"messageBody": [{"eventType": "a"}]})
    replayed = service.post({"messageBody": [{"eventType": "a"}]})
    assert [r.status_code for r in (created, bad, refused, replayed)] == [201, 400, 429, 429]
    service.stop()
    entries = log_entries(service)  # every line parses: no plain-text line anywhere
    access = [e for e in entries if e["logger"] == "access" and e["path"] == "/collect/event"]
    # Two workers write the log: their lines may interleave in another order than the requests'.
    assert sorted((e["status"], e.get("code") or "") for e in access) == [
        (201, ""), (201, ""), (400, "invalid_json"), (429, "rate_limited"), (429, "rate_limited")
    ]
    assert {e["pingId"]: e["status"] for e in access}[ping_id_of(created)] == 201
    assert all(e["pingId"] for e in access) and len({e["pingId"] for e in access}) == 5
    assert any(e["logger"] == "collector" and "collector configured" in e["message"] for e in entries)
    assert SECRET not in service.log()


def test_the_access_log_can_be_turned_off_and_text_chosen(start_service):
    quiet = start_service(access_log="off")
    assert quiet.post({"messageBody": [{"eventType": "a"}]}).status_code == 201
    requests.get(quiet.url + "/healthz", timeout=10)
    quiet.stop()
    assert not [e for e in log_entries(quiet) if e["logger"] == "access"]
    text = start_service(log_format="text")
    assert text.post({"messageBody": [{"eventType": "a"}]}).status_code == 201
    text.stop()
    assert '"POST /collect/event HTTP/1.1" 201' in text.log()
    assert "[INFO] collector: collector configured" in text.log()


def test_a_refused_cors_preflight_is_logged_and_counted_with_its_code(start_service):
    service = start_service(cors_origins="https://shop.example.com")
    for origin, method in (("https://evil.example.net", "POST"), ("https://shop.example.com", "PUT")):
        headers = {"Origin": origin, "Access-Control-Request-Method": method}
        answer = requests.options(service.url + "/collect/event", headers=headers, timeout=10)
        assert answer.status_code == 204 and "Access-Control-Allow-Origin" not in answer.headers
    allowed = {"Origin": "https://shop.example.com", "Access-Control-Request-Method": "POST"}
    assert requests.options(service.url + "/collect/event", headers=allowed, timeout=10).status_code == 204
    scrape = requests.get(service.url + "/metrics", timeout=10).text
    assert 'collector_rejected_requests_total{code="cors_preflight_refused"} 2.0' in scrape
    service.stop()
    preflights = [e for e in log_entries(service) if e["logger"] == "access" and e["method"] == "OPTIONS"]
    assert sorted(e.get("code", "") for e in preflights) == ["", "cors_preflight_refused", "cors_preflight_refused"]
