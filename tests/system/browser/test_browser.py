"""How clients/js sends, in a real headless Chromium, against the real service under gunicorn.

The test page is served from another origin than the collector (see
conftest.py), so the browser enforces CORS for real. What each test proves:

- fetch from an allowed origin: preflight, POST, 201 read by the page, events
  on disk with the fields and eventIds the page made;
- events still waiting when the page is left go by navigator.sendBeacon (a
  text/plain Blob) and are stored;
- from an origin not allowed, the page's fetch (application/json, so
  preflighted) never reaches the collector: the preflight gets no allow
  headers and the browser stops there. A text/plain beacon is a simple request
  the browser sends without asking: it is stored all the same. CORS protects
  what a page may read, not what a server accepts (write keys do that);
- a 429 is resent after its Retry-After, and the preflight used none of the budget;
- with `*`, a JSON Blob beacon (credentials mode, preflighted) is stored: the
  origin is echoed with Allow-Credentials (a `*` answer would fail it).
"""

from __future__ import annotations

import time

import orjson
import pytest

from tests.servers import wait_until

from .conftest import StaticSite

pytestmark = pytest.mark.system

# The page reads its settings from its query string: collector (the endpoint's
# URL), maxRetries, and transport=beacon to take fetch away, so that whatever
# arrives came by sendBeacon. Automatic page views are off: each test counts
# its requests.
PAGE = b"""<!doctype html>
<html>
<head>
<meta charset="utf-8">
<title>clients/js test page</title>
<script src="/collector.js"></script>
<script>
  var params = new URLSearchParams(location.search);
  if (params.get("transport") === "beacon") {
    window.fetch = function () { return Promise.reject(new TypeError("this page sends by beacon only")); };
  }
  window.answers = [];
  Collector.init({
    url: params.get("collector"),
    flushInterval: 60000,
    pageViews: false,
    maxRetries: Number(params.get("maxRetries") || 5),
    onResponse: function (answer) { answer.at = Date.now(); window.answers.push(answer); }
  });
</script>
</head>
<body><p>clients/js test page</p></body>
</html>
"""

# Tracks events, then flushes them: (eventIds, the answers the page saw).
TRACK_AND_FLUSH = """
var done = arguments[arguments.length - 1];
var ids = arguments[0].map(function (event) { return Collector.track(event[0], event[1]); });
Collector.flush().then(function () { done([ids, window.answers]); });
"""

TRACK = """
return arguments[0].map(function (event) { return Collector.track(event[0], event[1]); });
"""


@pytest.fixture(scope="module")
def shop():
    """The allowed origin."""
    with StaticSite({"/page.html": PAGE}) as site:
        yield site


@pytest.fixture(scope="module")
def stranger():
    """An origin the collector does not allow."""
    with StaticSite({"/page.html": PAGE}) as site:
        yield site


def collect_requests(service, count: int) -> list[tuple[str, int]]:
    """(method, status) of each request to /collect/event in the service's access log, once it has `count`.

    gunicorn writes a request's line after its answer: the page may see the answer first.
    """

    def logged():
        lines = [orjson.loads(line) for line in service.log().splitlines() if '"logger":"access"' in line]
        return [(line["method"], line["status"]) for line in lines if line["path"] == "/collect/event"]

    wait_until(lambda: len(logged()) >= count, 30, f"{count} requests in the access log")
    return logged()


def by_id(service) -> dict[str, dict]:
    return {event["eventId"]: event for event in service.events()}


def test_events_sent_with_fetch_from_an_allowed_origin_are_stored(start_service, shop, open_page):
    service = start_service(cors_origins=shop.origin)
    page = open_page(shop.url("/page.html", service.url + "/collect/event"))
    events = [["page_view", {"path": "/pricing", "n": 1}], ["add_to_cart", {"sku": "B-42", "price": 9.5}]]

    ids, answers = page.execute_async_script(TRACK_AND_FLUSH, events)

    assert [(a["status"], a["events"], a["retryIn"]) for a in answers] == [(201, 2, None)]
    stored = by_id(service)
    assert set(stored) == set(ids)
    for event_id, (event_type, properties) in zip(ids, events, strict=True):
        event = stored[event_id]
        assert (event["eventType"], event["properties"]) == (event_type, properties)
        assert event["timestamp"].endswith("Z")
        assert "HeadlessChrome" in event["client"]["userAgent"]
        assert "sentAt" in event["messageheader"]
    assert collect_requests(service, 2) == [("OPTIONS", 204), ("POST", 201)]


def test_events_left_waiting_go_by_send_beacon_when_the_page_is_left(start_service, shop, open_page):
    service = start_service(cors_origins=shop.origin)
    page = open_page(shop.url("/page.html", service.url + "/collect/event", transport="beacon"))
    events = [["checkout_started", {"items": 3}], ["page_hidden", {"reason": "navigation"}]]
    ids = page.execute_script(TRACK, events)
    assert service.events() == []

    page.get("about:blank")  # visibilitychange to hidden, then pagehide

    stored = wait_until(lambda: len(by_id(service)) == 2 and by_id(service), 30, "the beacon's events")
    assert set(stored) == set(ids)
    for event_id, (event_type, properties) in zip(ids, events, strict=True):
        assert (stored[event_id]["eventType"], stored[event_id]["properties"]) == (event_type, properties)
    # A text/plain Blob: a simple request, no preflight.
    assert collect_requests(service, 1) == [("POST", 201)]


def test_from_an_origin_not_allowed_fetch_is_stopped_but_a_beacon_is_not(start_service, shop, stranger, open_page):
    service = start_service(cors_origins=shop.origin)
    page = open_page(stranger.url("/page.html", service.url + "/collect/event", maxRetries="0"))

    _, answers = page.execute_async_script(TRACK_AND_FLUSH, [["page_view", {"path": "/"}]])

    # The preflight got no allow headers: the browser never sent the POST.
    assert [(a["status"], a["events"]) for a in answers] == [(0, 1)]
    assert service.events() == []
    assert collect_requests(service, 1) == [("OPTIONS", 204)]

    # A text/plain beacon is a simple request: the browser sends it without
    # asking and only hides the answer. CORS is no access control.
    [beacon_id] = page.execute_script(TRACK, [["page_hidden", {"path": "/"}]])
    page.get("about:blank")
    stored = wait_until(lambda: by_id(service), 30, "the beacon's event")
    assert list(stored) == [beacon_id]
    assert collect_requests(service, 2) == [("OPTIONS", 204), ("POST", 201)]


def test_a_429_is_resent_after_its_retry_after(start_service, shop, open_page):
    # A window long enough that the second flush falls in it even when a busy
    # machine keeps the browser waiting for seconds (the script timeout is 20 s).
    service = start_service(cors_origins=shop.origin, rate_limit="1 per 10 seconds")
    page = open_page(shop.url("/page.html", service.url + "/collect/event"))
    # The preflight before the first POST used none of the budget of 1.
    first_ids, _ = page.execute_async_script(TRACK_AND_FLUSH, [["first", {}]])
    started = time.time()
    second_ids, answers = page.execute_async_script(TRACK_AND_FLUSH, [["second", {}]])

    statuses = [(a["status"], a["events"]) for a in answers]
    assert statuses == [(201, 1), (429, 1), (201, 1)]
    refused, resent = answers[1], answers[2]
    assert 1000 <= refused["retryIn"] <= 10000, "the page read Retry-After (exposed by CORS)"
    assert resent["at"] - refused["at"] >= refused["retryIn"] - 50
    assert time.time() - started >= refused["retryIn"] / 1000 - 0.1
    assert set(by_id(service)) == set(first_ids + second_ids)


def test_with_star_a_json_blob_beacon_is_preflighted_with_credentials_and_stored(start_service, shop, open_page):
    # Not what clients/js sends (text/plain), but what a page may: a JSON Blob
    # beacon is sent in credentials mode, after a preflight that must echo the
    # origin (never `*`) and allow credentials, also with COLLECTOR_CORS_ORIGINS=*.
    service = start_service(cors_origins="*")
    page = open_page(shop.url("/page.html", service.url + "/collect/event"))
    queued = page.execute_script(
        """
        var body = JSON.stringify({messageBody: [{eventType: "json_beacon", eventId: "json-beacon-1"}]});
        return navigator.sendBeacon(arguments[0], new Blob([body], {type: "application/json"}));
        """,
        service.url + "/collect/event",
    )
    assert queued is True
    stored = wait_until(lambda: by_id(service), 30, "the beacon's event")
    assert list(stored) == ["json-beacon-1"]
    assert collect_requests(service, 2) == [("OPTIONS", 204), ("POST", 201)]
