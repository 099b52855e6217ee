"""Bots told apart on the data path (COLLECTOR_BOTS), through Flask's test client: what is answered and stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from collector import service
from collector.deadletters import letters as deadletters
from tests.app.helpers import post, stored

GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
PAGE_VIEW = {"eventType": "page_view", "properties": {"path": "/"}}
DRIVEN = {"eventType": "page_view", "context": {"webdriver": True}}
CRAWLER = {"name": "Googlebot", "category": "crawler"}
WEBDRIVER = {"name": "WebDriver", "category": "headless"}


def send(app, events, agent, query="", path="/collect/event", body=None):
    body = body if body is not None else {"messageBody": events}
    return post(app.test_client(), body, query, path=path, headers={"User-Agent": agent})


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_crawler_events_are_stored_flagged_by_default(app):
    assert send(app, [PAGE_VIEW, PAGE_VIEW], GOOGLEBOT).status_code == 201
    assert [event["client"]["bot"] for event in stored(app)] == [CRAWLER, CRAWLER]


def test_a_person_events_have_no_bot_key(app):
    assert send(app, [PAGE_VIEW], CHROME).status_code == 201
    [event] = stored(app)
    assert event["client"] == {"ip": "127.0.0.1", "userAgent": CHROME}


def test_flagged_events_are_counted_by_category(app):
    before = sample("collector_bot_events_total", category="crawler", outcome="stored")
    send(app, [PAGE_VIEW] * 3, GOOGLEBOT)
    assert sample("collector_bot_events_total", category="crawler", outcome="stored") == before + 3


def test_a_browser_that_says_webdriver_is_flagged_headless_per_event(app):
    assert send(app, [PAGE_VIEW, DRIVEN], CHROME).status_code == 201
    person, driven = stored(app)
    assert "bot" not in person["client"] and driven["client"]["bot"] == WEBDRIVER


def test_refuse_answers_403_and_stores_nothing(make_app):
    app = make_app(bots="refuse")
    before = sample("collector_rejected_requests_total", code="bot_refused")
    response = send(app, [PAGE_VIEW], GOOGLEBOT)
    assert response.status_code == 403
    body = response.get_json()
    assert (body["code"], body["error"], body["statusCode"]) == ("bot_refused", "Forbidden", 403)
    assert "Googlebot (crawler)" in body["message"]
    assert stored(app) == []
    assert sample("collector_rejected_requests_total", code="bot_refused") == before + 1


def test_refuse_refuses_a_whole_batch_for_one_webdriver_event(make_app):
    app = make_app(bots="refuse")
    before = sample("collector_bot_events_total", category="headless", outcome="refused")
    response = send(app, [PAGE_VIEW, PAGE_VIEW, DRIVEN], CHROME)
    assert (response.status_code, response.get_json()["code"]) == (403, "bot_refused")
    assert "event 2" in response.get_json()["message"]
    assert stored(app) == []
    assert sample("collector_bot_events_total", category="headless", outcome="refused") == before + 1
    assert send(app, [PAGE_VIEW], CHROME).status_code == 201, "people still get through"


def test_a_dry_run_answers_as_the_real_request_would(make_app):
    refusing = make_app(bots="refuse")
    assert send(refusing, [PAGE_VIEW], GOOGLEBOT, "?validate=1").status_code == 403
    assert send(make_app(), [PAGE_VIEW], GOOGLEBOT, "?validate=1").get_json() == {"valid": True, "events": 1}


def test_off_stores_no_bot_key_even_for_webdriver(make_app):
    app = make_app(bots="off")
    assert send(app, [PAGE_VIEW], GOOGLEBOT).status_code == 201
    assert send(app, [DRIVEN], CHROME).status_code == 201
    assert all("bot" not in event["client"] for event in stored(app))


def test_a_team_patterns_flag_its_own_agents_as_custom(make_app):
    app = make_app(bot_patterns="acme-uptime,^internal-scraper/")
    send(app, [PAGE_VIEW], "ACME-Uptime/3.1")
    send(app, [PAGE_VIEW], "internal-scraper/0.9 (+https://acme.example)")
    send(app, [PAGE_VIEW], "curl/8.5.0")
    assert [event["client"].get("bot") for event in stored(app)] == [
        {"name": "ACME-Uptime", "category": "custom"},
        {"name": "internal-scraper/", "category": "custom"},
        None,  # a back-end job's HTTP client is no bot unless the team says so
    ]


def test_the_segment_routes_flag_and_refuse_alike(make_app):
    flagging = make_app()
    driven = {"type": "page", "anonymousId": "a1", "context": {"webdriver": True}}
    batch = {"batch": [{"type": "page", "anonymousId": "a1"}, driven]}
    assert send(flagging, None, CHROME, path="/v1/batch", body=batch).status_code == 200
    assert send(flagging, None, GOOGLEBOT, path="/v1/page", body={"anonymousId": "a2"}).status_code == 200
    assert [event["client"].get("bot") for event in stored(flagging)] == [None, WEBDRIVER, CRAWLER]
    refusing = make_app(bots="refuse", data_dir=str(service.of(flagging).settings.data_dir) + "-refusing")
    answer = send(refusing, None, GOOGLEBOT, path="/v1/batch", body=batch)
    assert (answer.status_code, answer.get_json()["code"]) == (403, "bot_refused")
    assert stored(refusing) == []


@pytest.mark.parametrize("agent", [GOOGLEBOT, CHROME])
def test_a_refused_bot_is_not_kept_as_a_dead_letter(make_app, agent):
    app = make_app(bots="refuse", dead_letter="on")
    send(app, [DRIVEN], agent)
    assert list(deadletters.read(service.of(app).settings.data_dir)) == []


PLAN = Path(__file__).parents[2] / "unit" / "plan" / "data" / "shop.json"
BREAKS_THE_PLAN = {"eventType": "product_viewed", "properties": {"price": "9.50"}}


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/collect/event", {"messageBody": [BREAKS_THE_PLAN]}),
        ("/v1/track", {"event": "product_viewed", "userId": "u1", "properties": {"price": "9.50"}}),
    ],
)
def test_a_bot_is_refused_before_the_tracking_plan_is_checked(make_app, path, body):
    # The order: the bot decision comes first, so a refused bot's request gets the bot's 403 whatever
    # its events say, and a plan check is never spent on it.
    app = make_app(bots="refuse", tracking_plan=str(PLAN), tracking_plan_mode="refuse")
    answer = send(app, [], GOOGLEBOT, path=path, body=body)
    assert (answer.status_code, answer.get_json()["code"]) == (403, "bot_refused")
    answer = send(app, [], CHROME, path=path, body=body)
    assert (answer.status_code, answer.get_json()["code"]) == (400, "tracking_plan_violation")
    assert stored(app) == []
