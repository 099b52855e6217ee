"""The tracking plan through Flask's test client: refused or flagged, on every route, dry runs included."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from collector import service
from collector.deadletters import letters as deadletters
from collector.deadletters import rules as deadletters_rules
from tests.app.helpers import post, stored

SHOP = str(Path(__file__).parents[2] / "unit" / "plan" / "data" / "shop.json")
GOOD = {"eventType": "product_viewed", "properties": {"sku": "A1", "price": 9.5, "currency": "EUR"}}
BAD = {"eventType": "product_viewed", "properties": {"sku": "A1", "price": "9.50", "currency": "EUR"}}
PRICE = {"/properties/price": ["expected number, got string"]}


def violations(event_type: str, path: str) -> float:
    return REGISTRY.get_sample_value("collector_plan_violations_total", {"event_type": event_type, "path": path}) or 0.0


def test_refuse_mode_answers_400_with_pointers_and_stores_nothing(make_app):
    app = make_app(tracking_plan=SHOP, tracking_plan_mode="refuse")
    response = post(app.test_client(), {"messageBody": [GOOD, BAD]})
    assert response.status_code == 400
    body = response.get_json()
    assert (body["code"], body["statusCode"], body["error"]) == ("tracking_plan_violation", 400, "Bad Request")
    assert body["details"] == {"messageBody": {"1": PRICE}}
    assert stored(app) == []


def test_flag_mode_stores_the_event_with_its_violations_and_counts_them(make_app):
    app = make_app(tracking_plan=SHOP)
    before = violations("product_viewed", "/properties/price")
    response = post(app.test_client(), {"messageBody": [GOOD, BAD]})
    assert response.status_code == 201
    good, bad = sorted(stored(app), key=lambda event: "planViolations" in event)
    assert "planViolations" not in good
    assert bad["planViolations"] == [{"path": "/properties/price", "message": "expected number, got string"}]
    assert bad["properties"] == BAD["properties"], "stored as sent"
    assert violations("product_viewed", "/properties/price") - before == 1


def test_a_dry_run_answers_what_the_real_request_would(make_app):
    refusing = make_app(tracking_plan=SHOP, tracking_plan_mode="refuse")
    response = post(refusing.test_client(), {"messageBody": [GOOD, BAD]}, "?validate=1")
    assert (response.status_code, response.get_json()["code"]) == (400, "tracking_plan_violation")
    flagging = make_app(tracking_plan=SHOP)
    before = violations("product_viewed", "/properties/price")
    response = post(flagging.test_client(), {"messageBody": [GOOD, BAD, BAD]}, "?validate=1")
    assert (response.status_code, response.get_json()) == (200, {"valid": True, "events": 3, "flagged": 2})
    assert violations("product_viewed", "/properties/price") == before, "a dry run stores and counts nothing"
    assert stored(flagging) == []


def test_without_a_plan_the_dry_run_answer_is_as_before(make_app):
    response = post(make_app().test_client(), {"messageBody": [BAD]}, "?validate=1")
    assert response.get_json() == {"valid": True, "events": 1}


@pytest.mark.parametrize(
    ("path", "body", "details"),
    [
        (
            "/v1/batch",
            {"batch": [{"type": "track", "event": "product_viewed", "userId": "u", "properties": BAD["properties"]}]},
            {"batch": {"0": PRICE}},
        ),
        ("/v1/track", {"event": "product_viewed", "userId": "u", "properties": BAD["properties"]}, PRICE),
    ],
)
def test_segment_routes_refuse_with_their_own_details_shape(make_app, path, body, details):
    app = make_app(tracking_plan=SHOP, tracking_plan_mode="refuse")
    response = post(app.test_client(), body, path=path)
    assert (response.status_code, response.get_json()["code"]) == (400, "tracking_plan_violation")
    assert response.get_json()["details"] == details
    assert stored(app) == []


def test_segment_routes_flag_in_flag_mode(make_app):
    app = make_app(tracking_plan=SHOP)
    body = {"event": "product_viewed", "userId": "u", "properties": BAD["properties"]}
    assert post(app.test_client(), body, path="/v1/track").status_code == 200
    [event] = stored(app)
    assert event["planViolations"][0]["path"] == "/properties/price"


def test_a_segment_message_cannot_send_its_own_plan_violations(make_app):
    app = make_app(tracking_plan=SHOP)
    body = {"event": "product_viewed", "userId": "u", "properties": GOOD["properties"], "planViolations": []}
    response = post(app.test_client(), body, path="/v1/track")
    assert (response.status_code, response.get_json()["code"]) == (400, "invalid_field")


def test_a_refused_request_is_kept_as_a_dead_letter_like_every_other_400(make_app):
    app = make_app(tracking_plan=SHOP, tracking_plan_mode="refuse", dead_letter="on")
    assert post(app.test_client(), {"messageBody": [BAD]}).status_code == 400
    [letter] = deadletters.read(service.of(app).settings.data_dir)
    assert (letter["status"], letter["code"]) == (400, "tracking_plan_violation")
    assert deadletters_rules.never_replayed(letter) is None, "replayable once the plan is fixed"
