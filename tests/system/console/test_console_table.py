"""The console's live table in real headless Chromium: who and what, pausing, an opened row, search, time range.

The service stores events while the page is open; every wait polls the page
(no fixed sleep, no duration asserted).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import orjson
import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.servers import wait_until
from tests.system.console.test_console_page import ROWS, post

pytestmark = pytest.mark.system

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
NOTE = "const note = document.getElementById('paused-note'); return note.hidden ? null : note.textContent"
FRESH = "return Array.from(document.querySelectorAll('#events tbody tr.fresh')).map(r => r.dataset.eventId)"
OPEN = "return Array.from(document.querySelectorAll('#events tbody tr.open')).map(r => r.dataset.eventId)"
CELLS = (
    "return Object.fromEntries(Array.from(document.querySelectorAll('#events tbody tr'))"
    ".map(r => [r.dataset.eventId, Array.from(r.cells).map(c => c.textContent)]))"
)


def event_ids(browser) -> list[str]:
    return [event_id for _, event_id in browser.execute_script(ROWS)]


def choose(browser, element_id: str, value: str) -> None:
    browser.execute_script(
        "const e = document.getElementById(arguments[0]); e.value = arguments[1];"
        "e.dispatchEvent(new Event('change'));",
        element_id, value,
    )


@pytest.fixture
def page(start_service, start_console, browser):
    """(service, browser) with the console's page open over the service's data directory."""
    service = start_service()
    console = start_console(service.data_dir, service.url + "/metrics")
    browser.set_window_size(1400, 1100)
    yield service, browser, console
    browser.get("about:blank")


def test_a_click_or_a_selection_in_the_table_pauses_it_and_counts_what_arrives(page):
    service, browser, console = page
    for n in range(2):
        post(service, {"eventType": "view", "eventId": f"before-{n}"})
    # The console has read them: the page's first answer holds them, and nothing in it is new.
    wait_until(lambda: len(requests.get(console + "/api/events", timeout=10).json()["events"]) == 2, 30, "the index")
    browser.get(console + "/")
    wait_until(lambda: sorted(event_ids(browser)) == ["before-0", "before-1"], 30, "the first events")
    assert browser.execute_script(FRESH) == []  # a page just opened has nothing new to point at

    browser.find_element(By.CSS_SELECTOR, "#events tbody tr td:nth-child(3)").click()
    wait_until(lambda: browser.execute_script(NOTE) == "paused: 0 new", 30, "the table to say it is paused")
    shown = browser.execute_script(ROWS)
    for n in range(3):
        post(service, {"eventType": "view", "eventId": f"during-{n}"})
    wait_until(lambda: browser.execute_script(NOTE) == "paused: 3 new", 30, "the counter to count three")
    assert browser.execute_script(ROWS) == shown
    assert browser.find_element(By.ID, "pause").text == "Resume"

    browser.find_element(By.ID, "pause").click()
    wait_until(lambda: len(event_ids(browser)) == 5, 30, "the three to appear after Resume")
    assert browser.execute_script(NOTE) is None
    # Only rows that came since the last look are marked new, never the ones seen before.
    assert set(browser.execute_script(FRESH)) <= {"during-0", "during-1", "during-2"}

    # Selecting text in the table pauses it too.
    browser.execute_script(
        "const range = document.createRange();"
        "range.selectNodeContents(document.querySelector('#events tbody td:nth-child(3)'));"
        "getSelection().removeAllRanges(); getSelection().addRange(range);"
    )
    wait_until(lambda: browser.execute_script(NOTE) == "paused: 0 new", 30, "a selection to pause the table")
    post(service, {"eventType": "view", "eventId": "after"})
    wait_until(lambda: browser.execute_script(NOTE) == "paused: 1 new", 30, "the counter to count one")
    assert "after" not in event_ids(browser)


def test_a_row_opened_stays_open_while_new_events_arrive(page):
    service, browser, console = page
    pings = {post(service, {"eventType": "view", "eventId": f"old-{n}"}): f"old-{n}" for n in range(3)}
    browser.get(console + "/")
    wait_until(lambda: len(event_ids(browser)) == 3, 30, "the first events")
    browser.find_element(By.CSS_SELECTOR, '#events tbody tr[data-event-id="old-1"]').click()
    wait_until(lambda: browser.execute_script(OPEN) == ["old-1"], 30, "the row to open")
    assert '"eventId": "old-1"' in browser.find_element(By.ID, "detail-text").text
    browser.find_element(By.ID, "pause").click()  # the click paused the table: carry on live

    for n in range(3):
        post(service, {"eventType": "view", "eventId": f"new-{n}"})
    wait_until(lambda: len(event_ids(browser)) == 6, 30, "the new events to arrive live")
    assert browser.execute_script(NOTE) is None
    assert browser.execute_script(OPEN) == ["old-1"]  # the same event, now three rows further down
    detail = orjson.loads(browser.find_element(By.ID, "detail-text").text)
    assert detail["eventId"] == "old-1" and pings[detail["pingId"]] == "old-1"


def test_the_table_shows_who_and_what_and_searches_a_property_value(page):
    service, browser, console = page
    signed = service.post(
        {"messageBody": [{"eventType": "signup", "eventId": "pro-1", "userId": "u1",
                          "properties": {"plan": "pro", "seats": 3, "note": "x" * 200}}]},
        headers={"User-Agent": FIREFOX},
    )
    assert signed.status_code == 201, signed.text
    post(service, {"eventType": "signup", "eventId": "free-1", "anonymousId": "a-2", "properties": {"plan": "free"}})
    post(service, {"eventType": "view", "eventId": "pro-2", "userId": "u3", "properties": {"plan": "pro"}})
    browser.get(console + "/")
    wait_until(lambda: len(event_ids(browser)) == 3, 30, "the three events")
    cells = browser.execute_script(CELLS)
    _, user, event_type, preview, client = cells["pro-1"]
    assert (user, event_type, client) == ("u1", "signup", "Firefox")
    assert preview.startswith("plan=pro, seats=3, note=xxx") and preview.endswith("…") and len(preview) < 100
    assert cells["free-1"][1] == "a-2 (anonymous)"

    search = browser.find_element(By.ID, "search")
    search.send_keys("properties.plan = pro")
    wait_until(lambda: sorted(event_ids(browser)) == ["pro-1", "pro-2"], 30, "only the pro plan's events")
    search.send_keys(Keys.BACKSPACE * 3)
    wait_until(
        lambda: "needs a value after it" in browser.find_element(By.ID, "search-problem").text,
        30,
        "the page to say what is wrong with the query",
    )
    assert sorted(event_ids(browser)) == ["pro-1", "pro-2"]  # a bad query keeps the rows shown


def test_a_time_range_and_one_utc_or_local_switch_for_the_table_and_the_charts(page):
    service, browser, console = page
    post(service, {"eventType": "view", "eventId": "v-1"})
    [stored] = service.events()
    received = datetime.fromisoformat(stored["receivedAt"].replace("Z", "+00:00"))
    browser.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": "Asia/Kolkata"})
    try:
        browser.get(console + "/")
        wait_until(lambda: event_ids(browser) == ["v-1"], 30, "the event")
        assert browser.execute_script(CELLS)["v-1"][0] == received.strftime("%Y-%m-%d %H:%M:%S")
        assert "UTC" in browser.find_element(By.CSS_SELECTOR, "#events thead th").text
        choose(browser, "tz", "local")
        local = (received + timedelta(hours=5, minutes=30)).strftime("%Y-%m-%d %H:%M:%S")
        wait_until(lambda: browser.execute_script(CELLS)["v-1"][0] == local, 30, "the time shown in local time")
        assert "local" in browser.find_element(By.CSS_SELECTOR, "#events thead th").text
        chart = "return document.getElementById('chart-minutes').dataset"
        wait_until(lambda: browser.execute_script(chart).get("tz") == "local", 30, "the chart in local time")

        # The chart follows the range: 6 hours by the minute, 7 days by the hour.
        choose(browser, "range", "21600")
        wait_until(lambda: browser.execute_script(chart).get("drawn") == "361", 30, "6 hours by the minute")
        choose(browser, "range", "604800")
        wait_until(lambda: browser.execute_script(chart).get("drawn") == "169", 30, "7 days by the hour")

        # A range that ended an hour ago, typed in local time: the table has nothing in it.
        choose(browser, "range", "custom")
        now = datetime.now(timezone(timedelta(hours=5, minutes=30)))
        choose(browser, "range-from", (now - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"))
        choose(browser, "range-to", (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
        wait_until(lambda: event_ids(browser) == [], 30, "the event left out of an earlier range")
        wait_until(lambda: browser.execute_script(chart).get("drawn") == "121", 30, "the chart of those 2 hours")
    finally:
        browser.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": ""})
