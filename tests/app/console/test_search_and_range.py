"""The console's API: search on any field (`q`), and a time range (`from`, `to`) for the events and the series."""

from __future__ import annotations

import time

import pytest

from collector.console.app import create_app
from collector.settings import load_settings
from tests.app.console.test_api import post

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


@pytest.fixture
def collector(make_app):
    return make_app(rate_limit="100000 per hour").test_client()


@pytest.fixture
def console(tmp_path):
    settings = load_settings(environ={"COLLECTOR_DATA_DIR": str(tmp_path / "data")})
    return create_app(settings, key=None).test_client()


def ids(console, query: str) -> list[str]:
    answer = console.get("/api/events", query_string={"q": query} if query else None)
    assert answer.status_code == 200, answer.get_json()
    return [event["eventId"] for event in answer.get_json()["events"]]


def test_events_are_found_by_any_field_the_terms_anded(collector, console):
    ping = post(
        collector,
        {"eventType": "signup", "eventId": "s-1", "userId": "u1", "properties": {"plan": "pro", "seats": 3},
         "context": {"page": {"path": "/x"}}},
        {"eventType": "signup", "eventId": "s-2", "anonymousId": "a-2", "properties": {"plan": "free"}},
        {"eventType": "view", "eventId": "v-1", "userId": "u1", "properties": {"plan": "pro"}},
    )
    answer = collector.post("/collect/event", json={"messageBody": [{"eventType": "view", "eventId": "f-1"}]},
                            headers={"User-Agent": FIREFOX})
    assert answer.status_code == 201
    assert sorted(ids(console, "properties.plan = pro")) == ["s-1", "v-1"]
    assert ids(console, "userId = u1 eventType = signup") == ["s-1"]
    assert ids(console, "context.page.path = /x") == ["s-1"]
    assert ids(console, "properties.seats = 3") == ["s-1"]
    assert ids(console, "user = a-2") == ["s-2"]
    assert ids(console, "client = Firefox") == ["f-1"]
    assert ids(console, "s-2") == ["s-2"]
    assert sorted(ids(console, ping)) == ["s-1", "s-2", "v-1"]
    # Each event says which client the table names, beside what was stored.
    [firefox] = console.get("/api/events", query_string={"q": "f-1"}).get_json()["events"]
    assert firefox["clientName"] == "Firefox"


@pytest.mark.parametrize(
    ("query", "says"),
    [("properties.plan =", "needs a value after it"), ("= pro", "needs a field before it"),
     ('userId = "u1', "closing"), ("x" * 257, "1-256 characters")],
)
def test_a_bad_query_is_a_400_saying_what_to_write(console, query, says):
    answer = console.get("/api/events", query_string={"q": query})
    assert answer.status_code == 400
    body = answer.get_json()
    assert (body["code"], body["statusCode"]) == ("invalid_query", 400)
    assert says in body["message"]


def test_events_within_a_time_range_of_received_at(collector, console):
    post(collector, {"eventType": "view", "eventId": "v-1"})
    now = int(time.time())
    assert ids(console, "") == ["v-1"]
    assert [e["eventId"] for e in console.get(f"/api/events?from={now - 600}").get_json()["events"]] == ["v-1"]
    assert console.get(f"/api/events?from={now - 600}&to={now - 300}").get_json()["events"] == []
    assert console.get(f"/api/events?from={now + 600}").get_json()["events"] == []
    assert console.get("/api/events?from=soon").status_code == 400
    backwards = console.get(f"/api/events?from={now}&to={now - 60}")
    assert backwards.status_code == 400 and "from must be before to" in backwards.get_json()["message"]


def test_series_follow_a_chosen_range_by_the_minute_for_a_day_by_the_hour_past_it(collector, console):
    post(collector, {"eventType": "view"}, {"eventType": "view"})
    now = int(time.time())
    hour = console.get(f"/api/series?from={now - 1800}&to={now + 60}").get_json()
    assert hour["step_seconds"] == 60
    [(first, _), *_, (last, _)] = hour["series"]["view"]
    assert (first, last) == ((now - 1800) // 60 * 60, (now + 60) // 60 * 60)
    assert sum(count for _, count in hour["series"]["view"]) == 2
    days = console.get(f"/api/series?from={now - 3 * 86400}&to={now}").get_json()
    assert days["step_seconds"] == 3600 and sum(count for _, count in days["series"]["view"]) == 2
    # A range that ended before the events has none.
    assert console.get(f"/api/series?from={now - 7200}&to={now - 3600}").get_json() == {"step_seconds": 60,
                                                                                         "series": {}}


@pytest.mark.parametrize(
    ("query", "says"),
    [("from={now}&to={before}", "before"), ("from={week_ago}&to={week_ago_end}", "the last 169 hours"),
     ("from={now}&minutes=60", "minutes or from"), ("to={now}", "from"), ("from={now}&to={tomorrow}", "future")],
)
def test_a_series_range_the_counts_cannot_answer_is_an_invalid_query(console, query, says):
    now = int(time.time())
    path = "/api/series?" + query.format(
        now=now, before=now - 60, week_ago=now - 8 * 86400, week_ago_end=now - 2 * 86400, tomorrow=now + 86400
    )
    answer = console.get(path)
    assert (answer.status_code, answer.get_json()["code"]) == (400, "invalid_query")
    assert says in answer.get_json()["message"]
