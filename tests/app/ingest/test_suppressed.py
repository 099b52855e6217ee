"""Suppressed ids (COLLECTOR_SUPPRESSED_IDS_FILE) through Flask's test client: refused first, stored nowhere."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from collector import service
from collector.deadletters import letters as deadletters
from tests.app.helpers import post, stored

GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
PLAN = str(Path(__file__).parents[2] / "unit" / "plan" / "data" / "shop.json")
PAGE_VIEW = {"eventType": "page_view", "properties": {"path": "/"}}


@pytest.fixture
def suppressing(make_app, tmp_path):
    """make_app with a suppressed ids file (outside the data directory) listing `gone-user` and `gone-anon`."""
    path = tmp_path / "suppressed-ids.txt"
    path.write_text("# asked on 2026-11-30\ngone-user\ngone-anon\n")

    def make(**overrides):
        return make_app(suppressed_ids_file=str(path), **overrides)

    return make


def rejected(code: str) -> float:
    return REGISTRY.get_sample_value("collector_rejected_requests_total", {"code": code}) or 0.0


def test_a_listed_user_id_refuses_the_whole_request_with_403_suppressed_and_stores_nothing(suppressing):
    app = suppressing()
    before = rejected("suppressed")
    events = [{**PAGE_VIEW, "userId": "someone"}, {**PAGE_VIEW, "userId": "gone-user"}]
    response = post(app.test_client(), {"messageBody": events})
    assert response.status_code == 403
    body = response.get_json()
    assert (body["code"], body["error"], body["statusCode"]) == ("suppressed", "Forbidden", 403)
    assert body["message"].startswith("messageBody[1].userId is a suppressed id (COLLECTOR_SUPPRESSED_IDS_FILE)")
    assert "gone-user" not in body["message"]
    assert stored(app) == []
    assert rejected("suppressed") == before + 1


def test_a_listed_anonymous_id_is_refused_and_other_people_are_stored(suppressing):
    app = suppressing()
    client = app.test_client()
    response = post(client, {"messageBody": [{**PAGE_VIEW, "anonymousId": "gone-anon"}]})
    assert (response.status_code, response.get_json()["code"]) == (403, "suppressed")
    # An id is matched exactly, and only as a userId or anonymousId.
    kept = [{**PAGE_VIEW, "userId": "Gone-User", "sessionId": "gone-user", "properties": {"userId": "gone-user"}}]
    assert post(client, {"messageBody": kept}).status_code == 201
    assert [event["userId"] for event in stored(app)] == ["Gone-User"]


def test_a_dry_run_answers_as_the_real_request_would(suppressing):
    response = post(suppressing().test_client(), {"messageBody": [{**PAGE_VIEW, "userId": "gone-user"}]}, "?validate=1")
    assert (response.status_code, response.get_json()["code"]) == (403, "suppressed")


def test_a_suppressed_request_is_never_kept_as_a_dead_letter(suppressing):
    app = suppressing(dead_letter="on")
    client = app.test_client()
    assert post(client, {"messageBody": [{**PAGE_VIEW, "userId": "gone-user"}]}).status_code == 403
    assert post(client, {"messageBody": [{"eventType": "", "userId": "gone-user"}]}).status_code == 400
    letters = list(deadletters.read(service.of(app).settings.data_dir))
    # Only the request refused by the envelope, before its ids could be read, is kept (`forget` erases it).
    assert [letter["code"] for letter in letters] == ["invalid_event_type"]


@pytest.mark.parametrize(
    ("path", "body", "named"),
    [
        ("/v1/batch", {"batch": [{"type": "page", "userId": "u1"}, {"type": "track", "event": "x",
                                                                     "anonymousId": "gone-anon"}]},
         "batch[1].anonymousId"),
        ("/v1/track", {"event": "Order Completed", "userId": "gone-user"}, "userId"),
        ("/v1/i", {"userId": "gone-user", "traits": {"email": "a@example.com"}}, "userId"),
    ],
)
def test_the_segment_routes_refuse_a_listed_id_in_their_own_names(suppressing, path, body, named):
    app = suppressing(dead_letter="on")
    response = post(app.test_client(), body, path=path)
    assert (response.status_code, response.get_json()["code"]) == (403, "suppressed")
    assert response.get_json()["message"].startswith(f"{named} is a suppressed id")
    assert stored(app) == []
    assert list(deadletters.read(service.of(app).settings.data_dir)) == []


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/collect/event", {"messageBody": [{"eventType": "product_viewed", "userId": "gone-user"}]}),
        ("/v1/track", {"event": "product_viewed", "userId": "gone-user", "properties": {"price": "9.50"}}),
    ],
)
def test_a_suppressed_person_is_refused_before_the_bot_step_and_the_plan(suppressing, path, body):
    # Whoever sends it, a crawler refused by COLLECTOR_BOTS=refuse too, and whatever the plan says of it:
    # the answer is `suppressed`, the one that tells the sender to stop sending this person's events.
    app = suppressing(bots="refuse", tracking_plan=PLAN, tracking_plan_mode="refuse")
    response = post(app.test_client(), body, path=path, headers={"User-Agent": GOOGLEBOT})
    assert (response.status_code, response.get_json()["code"]) == (403, "suppressed")
    response = post(app.test_client(), body, path=path)
    assert (response.status_code, response.get_json()["code"]) == (403, "suppressed")
    assert stored(app) == []


def test_a_suppressed_request_is_not_kept_by_its_code_whatever_becomes_of_its_status(suppressing, monkeypatch):
    # Were 403s ever kept (bot refusals, say), the suppressed ones must still not be.
    from collector.deadletters import keep

    monkeypatch.setattr(keep, "NOT_KEPT", frozenset({401, 429}))
    app = suppressing(dead_letter="on", bots="refuse")
    client = app.test_client()
    assert post(client, {"messageBody": [{**PAGE_VIEW, "userId": "gone-user"}]}).status_code == 403
    assert post(client, {"messageBody": [PAGE_VIEW]}, headers={"User-Agent": GOOGLEBOT}).status_code == 403
    letters = list(deadletters.read(service.of(app).settings.data_dir))
    assert [letter["code"] for letter in letters] == ["bot_refused"]
