"""GET /openapi.json through Flask's test client: the committed document, never rate-limited, the service's own."""

from __future__ import annotations

import orjson

from collector.errors import CODES
from collector.openapi.document import NOT_OF_COLLECT
from tests.processes import ROOT

COMMITTED = ROOT / "docs" / "openapi.json"
REGENERATE = "python -m collector openapi > docs/openapi.json"


def test_the_served_document_is_the_committed_one(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_data() == COMMITTED.read_bytes(), f"docs/openapi.json is out of date: {REGENERATE}"


def test_reading_the_document_is_never_rate_limited(make_app):
    client = make_app(rate_limit="1 per hour").test_client()
    answers = [client.get("/openapi.json") for _ in range(3)]
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert not any("X-RateLimit-Limit" in answer.headers for answer in answers)
    event = client.post("/collect/event", json={"messageBody": [{"eventType": "a"}]})
    assert event.status_code == 201  # the one request of the hour was still there


def test_a_service_serves_the_document_of_its_own_settings(make_app):
    client = make_app(max_events="3", event_types="signup,page_view").test_client()
    doc = client.get("/openapi.json").get_json()
    schemas = doc["components"]["schemas"]
    assert schemas["EventBatch"]["properties"]["messageBody"]["maxItems"] == 3
    assert schemas["Event"]["properties"]["eventType"]["enum"] == ["page_view", "signup"]
    assert "at most 3 events per request" in doc["info"]["description"]


def test_every_code_the_endpoint_can_answer_is_documented_under_its_status(client):
    doc = client.get("/openapi.json").get_json()
    responses = doc["paths"]["/collect/event"]["post"]["responses"]
    schemas = doc["components"]["schemas"]
    documented = {}
    for status in responses:
        if status.startswith(("4", "5")):
            [_, refinement] = schemas[f"Error{status}"]["allOf"]
            for code in refinement["properties"]["code"]["enum"]:
                documented[code] = int(status)
    expected = {kind.code: kind.status for kind in CODES.values() if kind.code not in NOT_OF_COLLECT}
    assert documented == expected
    assert {"200", "201"} <= responses.keys()


def test_with_write_keys_the_document_requires_one_and_is_itself_read_without_one(make_app):
    client = make_app(api_keys="k" * 20).test_client()
    response = client.get("/openapi.json")
    assert response.status_code == 200
    security = response.get_json()["paths"]["/collect/event"]["post"]["security"]
    assert security == [{"bearerWriteKey": []}, {"headerWriteKey": []}, {"queryWriteKey": []}]
    committed = orjson.loads(COMMITTED.read_bytes())["paths"]["/collect/event"]["post"]["security"]
    assert committed == [{}, *security]  # the defaults: no keys, so a key is optional
