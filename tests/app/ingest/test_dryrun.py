"""Dry runs (`?validate=1`) through Flask's test client: every check of a real call, nothing stored."""

from __future__ import annotations

import pytest

from tests.app.helpers import post, stored

EVENT = {"eventType": "click"}


def test_a_dry_run_stores_nothing_and_answers_200_with_the_number_of_events(app, client):
    response = post(client, {"messageBody": [EVENT, EVENT, {"eventType": "buy"}]}, "?validate=1")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == {"valid": True, "events": 3}
    assert stored(app) == []


def test_validate_0_is_a_real_call(app, client):
    response = post(client, {"messageBody": [EVENT]}, "?validate=0")
    assert response.status_code == 201
    assert [event["eventType"] for event in stored(app)] == ["click"]


@pytest.mark.parametrize(
    "body, content_type",
    [
        ({"messageBody": [EVENT, {"eventType": ""}]}, "application/json"),
        ({"messageBody": [{"eventType": "click", "colour": "red"}]}, "application/json"),
        ({"messageBody": []}, "application/json"),
        (b'{"messageBody": [', "application/json"),
        (b"", "application/json"),
        ({"messageBody": [EVENT]}, "application/xml"),
    ],
)
def test_a_dry_run_of_a_bad_request_gets_the_very_answer_of_a_real_call(app, client, body, content_type):
    real = post(client, body, content_type=content_type)
    dry = post(client, body, "?validate=1", content_type=content_type)
    assert real.status_code >= 400
    assert (dry.status_code, dry.get_data()) == (real.status_code, real.get_data())
    assert stored(app) == []


def test_a_dry_run_checks_each_events_size_as_it_would_be_stored(make_app):
    app = make_app(max_event_bytes="400")
    client = app.test_client()
    body = {"messageBody": [EVENT, {"eventType": "big", "properties": {"text": "x" * 300}}]}
    real = post(client, body)
    dry = post(client, body, "?validate=1")
    assert dry.status_code == 413
    assert dry.get_json()["code"] == "event_too_large"
    assert dry.get_json()["details"] == real.get_json()["details"] == {"messageBody": {"1": ["Event too large."]}}
    assert stored(app) == []


def test_a_dry_run_uses_up_rate_limit_budget_as_a_real_call_does(make_app):
    client = make_app(rate_limit="3 per hour").test_client()
    answers = [post(client, {"messageBody": [EVENT]}, "?validate=1") for _ in range(2)]
    assert [answer.status_code for answer in answers] == [200, 200]
    assert [answer.headers["X-RateLimit-Remaining"] for answer in answers] == ["2", "1"]
    assert post(client, {"messageBody": [EVENT]}).status_code == 201
    refused = post(client, {"messageBody": [EVENT]}, "?validate=1")
    assert refused.status_code == 429
    assert refused.get_json()["code"] == "rate_limited"


@pytest.mark.parametrize(
    "query, shown",
    [
        ("?validate=true", "'true'"),
        ("?validate=", "''"),
        ("?validate=2", "'2'"),
        ("?validate=1&validate=1", "'validate=1&validate=1'"),
    ],
)
def test_any_other_value_of_validate_is_refused_and_stores_nothing(app, client, query, shown):
    response = post(client, {"messageBody": [EVENT]}, query)
    assert response.status_code == 400
    assert response.get_json() == {
        "error": "Bad Request",
        "message": f"query parameter validate must be 1 (check only, store nothing) or 0, once; got {shown}",
        "statusCode": 400,
        "code": "invalid_query",
    }
    assert stored(app) == []


@pytest.mark.parametrize("query, name", [("?Validate=1", "Validate"), ("?VALIDATE=1", "VALIDATE"),
                                         ("?validate%20=1", "validate "), ("?validate=1&Validate=0", "Validate")])
def test_another_spelling_of_validate_is_refused_and_stores_nothing(app, client, query, name):
    # ?Validate=1 was a real call: the events meant only to be checked were stored.
    response = post(client, {"messageBody": [EVENT]}, query)
    assert response.status_code == 400
    assert response.get_json() == {
        "error": "Bad Request",
        "message": f"query parameter {name!r} is not known: a dry run is validate=1, in lower case",
        "statusCode": 400,
        "code": "invalid_query",
    }
    assert stored(app) == []
