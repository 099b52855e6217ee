"""What clients/js adds to each event, in a real headless Chromium, against the real service.

Each test opens pages of an origin of its own (so with its own localStorage)
and asserts on the lines stored on disk: docs/sending-events.md's example placed in
<head>, page context, anonymous and session ids, single-page-app page views, a
batch whose answer was lost stored once, calls queued before the script loads.
"""

from __future__ import annotations

import secrets

import pytest

from tests.servers import wait_until

from .conftest import readme_web_block
from .losing_proxy import LosingProxy
from .pages import ASYNC_PAGE, FEATURE_PAGE, HEAD_PAGE, MODULE_PAGE

pytestmark = pytest.mark.system

def stored(service, count: int, what: str) -> list[dict]:
    """The stored events once there are at least `count`."""
    return wait_until(lambda: len(service.events()) >= count and service.events(), 45, what)


def page_views(service, count: int) -> list[dict]:
    def views():
        found = [event for event in service.events() if event["eventType"] == "page_view"]
        return len(found) >= count and found

    return wait_until(views, 45, f"{count} page views")


def test_the_readme_example_works_placed_in_head_served_by_nginx(start_service, shop_nginx, open_page):
    nginx = shop_nginx({})
    service = start_service(cors_origins=nginx.url)
    example = readme_web_block("html").replace("https://collect.example.com", service.url)
    (nginx.prefix / "www" / "head.html").write_text(HEAD_PAGE.replace("{example}", example))
    page = open_page(nginx.url + "/head.html", "return document.readyState === 'complete'")

    page.find_element("id", "buy").click()

    assert page.execute_script("return window.errors") == []
    events = stored(service, 2, "the page view and the click")
    assert sorted(event["eventType"] for event in events) == ["add_to_cart", "page_view"]
    # Read once the document was parsed: the <title> after the script is known.
    assert {event["context"]["page"]["title"] for event in events} == {"Pricing"}


def test_every_event_carries_its_page_context(start_service, make_site, open_page):
    site = make_site({"/feature.html": FEATURE_PAGE, "/other.html": FEATURE_PAGE})
    service = start_service(cors_origins=site.origin)
    first_url = site.url("/feature.html", service.url + "/collect/event")
    page = open_page(first_url)
    page_views(service, 1)

    page.execute_script("document.getElementById('next').href = '/other.html' + location.search")
    page.find_element("id", "next").click()

    second = page_views(service, 2)[1]
    facts = page.execute_script(
        "return [location.href, screen.width, screen.height, navigator.language,"
        " Intl.DateTimeFormat().resolvedOptions().timeZone]"
    )
    context = second["context"]
    search = "?" + first_url.split("?", 1)[1]
    assert context["page"] == {
        "url": facts[0],
        "path": "/other.html",
        "search": search,
        "referrer": first_url,
        "title": "Feature page",
    }
    assert (context["screen"]["width"], context["screen"]["height"]) == (facts[1], facts[2])
    assert (context["locale"], context["timezone"]) == (facts[3], facts[4])
    assert context["library"]["name"] == "collector-js"
    # selenium sets navigator.webdriver: reported, for the collector to flag bots by.
    assert context["webdriver"] is True


def test_the_anonymous_id_persists_and_the_session_rolls_after_30_idle_minutes(start_service, make_site, open_page):
    site = make_site({"/feature.html": FEATURE_PAGE})
    service = start_service(cors_origins=site.origin)
    page = open_page(site.url("/feature.html", service.url + "/collect/event"))
    page_views(service, 1)
    page.refresh()
    first, second = page_views(service, 2)
    assert first["anonymousId"] == second["anonymousId"]
    assert first["sessionId"] == second["sessionId"]
    assert first["anonymousId"] != first["sessionId"]

    # The last event of the session 31 minutes ago: the next one starts another.
    page.execute_script("localStorage.setItem('collector.sessionSeen', String(Date.now() - 31 * 60 * 1000))")
    page.refresh()
    third = page_views(service, 3)[2]
    assert third["anonymousId"] == first["anonymousId"]
    assert third["sessionId"] != first["sessionId"]

    page.execute_script("Collector.reset(); Collector.page()")  # a visitor who withdraws consent
    fourth = page_views(service, 4)[3]
    assert fourth["anonymousId"] != first["anonymousId"]
    assert fourth["sessionId"] != third["sessionId"]


@pytest.mark.parametrize("setting", ["persist=off", "storage=blocked"])
def test_without_storage_the_ids_last_one_page_load(start_service, make_site, open_page, setting):
    site = make_site({"/feature.html": FEATURE_PAGE})
    service = start_service(cors_origins=site.origin)
    name, value = setting.split("=")
    page = open_page(site.url("/feature.html", service.url + "/collect/event", **{name: value}))
    page.execute_script("Collector.track('clicked', {})")
    stored(service, 2, "the page view and the event")
    page.refresh()
    events = stored(service, 3, "the second page view")

    assert events[0]["anonymousId"] == events[1]["anonymousId"], "kept in memory for the page"
    assert events[2]["anonymousId"] != events[0]["anonymousId"]
    if name == "persist":
        assert page.execute_script("return Object.keys(localStorage)") == []


def test_without_the_anonymous_id_no_event_has_one(start_service, make_site, open_page):
    site = make_site({"/feature.html": FEATURE_PAGE})
    service = start_service(cors_origins=site.origin)
    open_page(site.url("/feature.html", service.url + "/collect/event", anonymousId="off"))
    [view] = page_views(service, 1)
    assert "anonymousId" not in view
    assert view["sessionId"]


def test_history_navigation_sends_page_views(start_service, make_site, open_page):
    site = make_site({"/feature.html": FEATURE_PAGE})
    service = start_service(cors_origins=site.origin)
    first_url = site.url("/feature.html", service.url + "/collect/event")
    page = open_page(first_url)
    page_views(service, 1)

    page.execute_script("history.pushState({}, '', '/app/cart?step=2')")
    page.execute_script("history.replaceState({}, '', location.href)")  # the same URL: no page view
    page.execute_script("history.replaceState({}, '', '/app/checkout')")
    page.execute_script("history.back()")  # popstate, back to the first URL

    views = page_views(service, 4)
    wait_until(lambda: page.execute_script("return Collector.pending()") == 0, 45, "nothing left to send")
    views = [event for event in service.events() if event["eventType"] == "page_view"]
    assert [view["context"]["page"]["path"] for view in views] == [
        "/feature.html",
        "/app/cart",
        "/app/checkout",
        "/feature.html",
    ]
    cart = views[1]["context"]["page"]
    assert (cart["search"], cart["referrer"]) == ("?step=2", first_url)
    assert views[2]["context"]["page"]["referrer"] == site.origin + "/app/cart?step=2"


def test_calls_made_before_the_script_arrives_are_made_when_it_does(start_service, make_site, open_page):
    site = make_site({"/async.html": ASYNC_PAGE})
    service = start_service(cors_origins=site.origin)
    open_page(site.url("/async.html", service.url + "/collect/event"), "return !Array.isArray(window.Collector)")
    events = stored(service, 2, "the queued event and the page view")
    assert sorted(event["eventType"] for event in events) == ["page_view", "signup_viewed"]


def test_the_module_sends_and_drops_only_what_the_collector_would_refuse(start_service, make_site, open_page):
    site = make_site({"/module.html": MODULE_PAGE})
    service = start_service(cors_origins=site.origin)
    page = open_page(site.url("/module.html", service.url + "/collect/event"), "return !!window.ids")
    ids = page.execute_script("return window.ids")
    assert (ids[1], ids[2]) == (None, None), "an empty eventType and a cycle are refused at once"

    events = {event["eventType"]: event for event in stored(service, 3, "the three valid events")}
    assert set(events) == {"module_event", "with_a_list", "campaign"}
    assert events["module_event"]["properties"] == {"n": 1}
    assert "properties" not in events["with_a_list"]
    campaign = events["campaign"]
    assert (campaign["userId"], campaign["context"]["campaign"]) == ("42", "spring")
    assert campaign["context"]["page"]["title"] == "Module page"


def test_a_batch_whose_answer_was_lost_is_resent_with_its_key_and_stored_once(start_service, make_site, open_page):
    site = make_site({"/feature.html": FEATURE_PAGE})
    service = start_service(cors_origins=site.origin)
    with LosingProxy(service.url) as proxy:
        page = open_page(site.url("/feature.html", proxy.url + "/collect/event", pageViews="off"))
        ids = page.execute_script(
            "return [Collector.track('a', {}), Collector.track('b', {}), Collector.track('c', {})]"
        )

        answers = wait_until(
            lambda: (
                len(page.execute_script("return window.answers")) >= 2 and page.execute_script("return window.answers")
            ),
            45,
            "the resend",
        )

    assert [(answer["status"], answer["events"]) for answer in answers] == [(503, 3), (201, 3)]
    events = service.events()
    assert sorted(event["eventId"] for event in events) == sorted(ids)
    # The collector stored the first copy and replayed its 201 to the second.
    assert answers[0]["key"] == answers[1]["key"]
    assert proxy.forwarded == [(answers[0]["key"], 201), (answers[0]["key"], 201)]


def test_a_batch_waiting_to_be_resent_goes_by_beacon_when_the_page_is_hidden(start_service, make_site, open_page):
    site = make_site({"/feature.html": FEATURE_PAGE})
    service = start_service(cors_origins=site.origin)
    with LosingProxy(service.url, store_first=False, retry_after="3600") as proxy:
        page = open_page(site.url("/feature.html", proxy.url + "/collect/event", pageViews="off"))
        ids = page.execute_script("return [Collector.track('a', {}), Collector.track('b', {})]")
        answers = wait_until(lambda: page.execute_script("return window.answers"), 45, "the 503")
        assert [(answer["status"], answer["retryIn"]) for answer in answers] == [(503, 3600000)]

        page.get("about:blank")  # the resend an hour away: the beacon takes the batch now

        events = stored(service, 2, "the beacon's events")
    assert sorted(event["eventId"] for event in events) == sorted(ids)
    assert proxy.forwarded == [(None, 201)], "one beacon, with no key (it can set no header)"


def test_events_left_waiting_go_by_beacon_with_the_write_key(start_service, make_site, open_page):
    key = secrets.token_urlsafe(32)
    site = make_site({"/feature.html": FEATURE_PAGE})
    service = start_service(cors_origins=site.origin, api_keys=key)
    page = open_page(site.url("/feature.html", service.url + "/collect/event", transport="beacon", writeKey=key))
    ids = page.execute_script("return [Collector.track('checkout_started', {items: 3})]")
    assert service.events() == []

    page.get("about:blank")  # visibilitychange to hidden, then pagehide

    events = stored(service, 2, "the beacon's events")
    assert {event["eventType"] for event in events} == {"page_view", "checkout_started"}
    assert set(ids) <= {event["eventId"] for event in events}

