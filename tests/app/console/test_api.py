"""The console's JSON API over what the collector stored: the events, the series, the key, bad parameters."""

from __future__ import annotations

import base64
import threading
from itertools import pairwise

import orjson
import pytest

from collector.console.app import create_app
from collector.errors import CODES
from collector.ops.instrument import MAX_EVENT_TYPES, OTHER
from collector.settings import load_settings
from tests import damaged

KEY = "console-key-0123456789"


@pytest.fixture
def collector(make_app, tmp_path):
    """The collector's app, storing into tmp_path/data."""
    return make_app(rate_limit="100000 per hour").test_client()


@pytest.fixture
def console(tmp_path):
    settings = load_settings(environ={"COLLECTOR_DATA_DIR": str(tmp_path / "data")})
    return create_app(settings, key=None).test_client()


def post(client, *events: dict) -> str:
    answer = client.post("/collect/event", json={"messageBody": list(events)})
    assert answer.status_code == 201, answer.get_data()
    return orjson.loads(answer.get_json()["value"])["pingId"]


def test_events_are_the_stored_lines_newest_first_filtered_by_type_and_id(collector, console):
    first = post(collector, {"eventType": "view", "eventId": "v-1"}, {"eventType": "buy", "eventId": "b-1"})
    second = post(collector, {"eventType": "view", "eventId": "v-2"})
    answer = console.get("/api/events")
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    events = answer.get_json()["events"]
    assert events[0]["eventId"] == "v-2"
    assert sorted(e["eventId"] for e in events) == ["b-1", "v-1", "v-2"]
    assert all(set(e) >= {"eventType", "eventId", "pingId", "receivedAt", "client"} for e in events)
    assert [e["eventId"] for e in console.get("/api/events?type=view").get_json()["events"]] == ["v-2", "v-1"]
    assert [e["eventId"] for e in console.get(f"/api/events?q={first}&type=buy").get_json()["events"]] == ["b-1"]
    assert [e["pingId"] for e in console.get("/api/events?q=v-2").get_json()["events"]] == [second]
    assert len(console.get("/api/events?limit=1").get_json()["events"]) == 1


def test_series_count_each_type_per_minute_or_per_hour_past_a_day(collector, console):
    post(collector, {"eventType": "view"}, {"eventType": "view"}, {"eventType": "buy"})
    minutes = console.get("/api/series").get_json()
    assert minutes["step_seconds"] == 60
    assert {t: sum(c for _, c in points) for t, points in minutes["series"].items()} == {"buy": 1, "view": 2}
    assert all(len(points) == 60 for points in minutes["series"].values())
    assert all(b - a == 60 for a, b in pairwise(p[0] for p in minutes["series"]["view"]))
    week = console.get("/api/series?minutes=10080").get_json()
    assert week["step_seconds"] == 3600 and len(week["series"]["view"]) == 168
    assert console.get("/api/series?minutes=1440").get_json()["step_seconds"] == 60


@pytest.mark.parametrize(
    "query",
    ["/api/events?limit=0", "/api/events?limit=1001", "/api/events?limit=ten", "/api/events?limit=%D9%A1",
     "/api/events?type=a&type=b", "/api/events?q=", "/api/series?minutes=0", "/api/series?minutes=10081",
     "/api/series?minutes=-5"],
)
def test_bad_parameters_get_a_400_in_the_collectors_shape(console, query):
    answer = console.get(query)
    assert answer.status_code == 400
    body = answer.get_json()
    assert (body["error"], body["statusCode"], body["code"]) == ("Bad Request", 400, "invalid_query")
    assert "query parameter" in body["message"]


def test_the_page_and_the_api_forbid_inline_script_and_other_origins(console):
    with console.get("/") as page:
        assert page.status_code == 200 and b'<script src="/static/console.js"></script>' in page.get_data()
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "default-src 'none'" in policy and "'unsafe-inline'" not in policy
    for path in ("/static/vendor/uplot/uPlot.iife.min.js", "/static/vendor/uplot/LICENSE"):
        with console.get(path) as answer:
            assert answer.status_code == 200


def test_with_a_key_every_request_needs_it(tmp_path):
    settings = load_settings(environ={"COLLECTOR_DATA_DIR": str(tmp_path / "data")})
    client = create_app(settings, key=KEY).test_client()
    for path in ("/", "/api/events", "/static/console.js"):
        rejected = client.get(path)
        assert rejected.status_code == 401
        assert rejected.headers["WWW-Authenticate"].startswith('Basic realm="collector console"')
        assert rejected.get_json()["code"] == "console_key_required"
    basic = base64.b64encode(f"anyone:{KEY}".encode()).decode()
    assert client.get("/api/events", headers={"Authorization": f"Basic {basic}"}).status_code == 200
    with client.get("/", headers={"Authorization": f"Bearer {KEY}"}) as page:
        assert page.status_code == 200
    wrong = base64.b64encode(b"anyone:console-key-0123456788").decode()
    for header in (f"Basic {wrong}", f"Bearer {KEY}x", "Basic !!!", f"Digest {KEY}", KEY):
        assert client.get("/api/events", headers={"Authorization": header}).status_code == 401


def test_overview_tells_top_types_dead_letters_and_the_store(make_app, tmp_path):
    collector = make_app(dead_letter="on", event_types="view").test_client()
    post(collector, {"eventType": "view"})
    assert collector.post("/collect/event", json={"messageBody": [{"eventType": "nope"}]}).status_code == 400
    settings = load_settings(environ={"COLLECTOR_DATA_DIR": str(tmp_path / "data"), "COLLECTOR_RETENTION_DAYS": "30"})
    console = create_app(settings, key=None).test_client()
    overview = console.get("/api/overview").get_json()
    assert overview["topTypes"] == [["view", 1]]
    [letter] = overview["deadLetters"]
    assert letter["code"] == "invalid_event_type" and "body" not in letter
    # A later look reads what was added since, newest first.
    assert collector.post("/collect/event", data=b"{nope", content_type="application/json").status_code == 400
    assert [d["code"] for d in console.get("/api/overview").get_json()["deadLetters"]] == [
        "invalid_json", "invalid_event_type"
    ]
    assert overview["store"]["retentionDays"] == 30 and overview["store"]["diskFreeBytes"] > 0
    assert [f["state"] for f in overview["store"]["files"]] == ["open"]


GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def test_the_api_shows_people_and_bots_apart_and_can_leave_bots_out(collector, console):
    post(collector, {"eventType": "view", "eventId": "person"}, {"eventType": "view", "eventId": "driven",
                                                                 "context": {"webdriver": True}})
    crawled = collector.post("/collect/event", json={"messageBody": [{"eventType": "view", "eventId": "crawler"}]},
                             headers={"User-Agent": GOOGLEBOT})
    assert crawled.status_code == 201
    overview = console.get("/api/overview").get_json()
    assert overview["topTypes"] == [["view", 3]]
    assert overview["botShare"] == [["view", 3, 2]]
    assert console.get("/api/overview?bots=exclude").get_json()["topTypes"] == [["view", 1]]
    ids = [e["eventId"] for e in console.get("/api/events?bots=exclude").get_json()["events"]]
    assert ids == ["person"]
    ids = {e["eventId"] for e in console.get("/api/events?bots=only").get_json()["events"]}
    assert ids == {"driven", "crawler"}
    series = console.get("/api/series?bots=only").get_json()["series"]
    assert sum(count for _, count in series["view"]) == 2


@pytest.mark.parametrize("path", ["/api/events", "/api/series", "/api/overview"])
def test_another_bots_choice_is_a_bad_query(console, path):
    answer = console.get(path + "?bots=hide")
    assert (answer.status_code, answer.get_json()["code"]) == (400, "invalid_query")
    assert "exclude or only" in answer.get_json()["message"]


def test_a_range_past_the_end_of_a_file_gets_416_with_a_code_of_the_errors_table(console):
    answer = console.get("/static/console.css", headers={"Range": "bytes=99999999-"})
    assert answer.status_code == 416
    body = answer.get_json()
    assert body["code"] == "range_not_satisfiable" and body["code"] in CODES
    assert (body["statusCode"], body["error"]) == (416, "Requested Range Not Satisfiable")


@pytest.mark.parametrize("kind", damaged.KINDS)
def test_a_file_that_is_not_a_data_file_is_skipped_and_named_never_a_500(tmp_path, kind):
    data = tmp_path / "data"
    data.mkdir()
    (data / "events-20261126T050000.000000Z-h-1-000001.jsonl").write_bytes(
        orjson.dumps({"eventType": "view", "eventId": "v-1", "receivedAt": "2026-11-26T05:00:00.000Z"}) + b"\n"
    )
    name = damaged.make(data, kind)
    settings = load_settings(environ={"COLLECTOR_DATA_DIR": str(data)})
    console = create_app(settings, key=None).test_client()
    answers = []
    # A FIFO used to block the console's reader for ever: ask from a thread, with a generous deadline.
    asking = threading.Thread(
        target=lambda: answers.extend(console.get(path) for path in ("/api/overview", "/api/events")), daemon=True
    )
    asking.start()
    asking.join(120)
    assert not asking.is_alive(), "the console did not answer"
    overview, events = answers
    assert overview.status_code == 200 and events.status_code == 200
    assert damaged.REASONS[kind] in overview.get_json()["damagedFiles"][name]
    assert overview.get_json()["unreadableLines"] >= 1
    assert [event["eventId"] for event in events.get_json()["events"]] == ["v-1"]


def test_series_of_thousands_of_types_name_the_top_100_and_add_the_rest_as_other(collector, console):
    for batch in range(6):
        post(collector, *({"eventType": f"type-{batch}-{n}"} for n in range(500)))
    for minutes in (60, 10080):
        series = console.get(f"/api/series?minutes={minutes}").get_json()["series"]
        assert len(series) == MAX_EVENT_TYPES + 1 and OTHER in series
        assert sum(count for points in series.values() for _, count in points) == 3000
