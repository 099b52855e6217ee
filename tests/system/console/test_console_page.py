"""The console in real headless Chromium, over the data directory of the real service with two workers.

An operator's view: the page is open, events are posted to the collector,
and each appears on the page without a reload; the type filter, the chart,
and an event holding markup shown as text with no script run. A screenshot
of the page is kept as a CI artifact (build/ci/console.png).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import orjson
import pytest
import requests

from tests.processes import ROOT
from tests.servers import wait_until

pytestmark = pytest.mark.system

HOSTILE = '<img src=x onerror="window.__pwned = 1">'
ROWS = (
    "return Array.from(document.querySelectorAll('#events tbody tr')).map(r => [r.dataset.pingId, r.dataset.eventId])"
)


def post(service, *events: dict) -> str:
    answer = service.post({"messageBody": list(events)})
    assert answer.status_code == 201, answer.text
    return orjson.loads(answer.json()["value"])["pingId"]


def test_events_appear_live_filter_chart_and_markup_stays_text(start_service, start_console, browser):
    service = start_service(workers="2")
    service.wait_for_workers(2)
    console = start_console(service.data_dir, service.url + "/metrics")
    browser.set_window_size(1400, 1300)
    browser.get(console + "/")
    wait_until(lambda: browser.execute_script("return document.querySelector('#chart-minutes canvas') !== null"), 30,
               "the page to draw its first chart")

    posted = []
    for n in range(3):
        for event_type in ("page_view", "signup"):
            event_id = f"{event_type}-{n}-{uuid.uuid4()}"
            event = {"eventType": event_type, "eventId": event_id, "userId": f"user-{n}",
                     "properties": {"plan": ("free", "pro")[n % 2], "path": f"/docs/{n}"}}
            posted.append((post(service, event), event_id, event_type))
    # Both workers stored some (separate connections land on either one).
    for ping_id, event_id, _ in posted:
        wait_until(lambda row=[ping_id, event_id]: row in browser.execute_script(ROWS), 30,
                   f"{event_id} to appear on the page without a reload")

    # The type filter shows only that type.
    browser.execute_script(
        "const s = document.getElementById('type-filter'); s.value = 'signup'; s.dispatchEvent(new Event('change'));"
    )
    signups = {event_id for _, event_id, event_type in posted if event_type == "signup"}
    wait_until(lambda: {row[1] for row in browser.execute_script(ROWS)} == signups, 30, "only signups")
    browser.execute_script(
        "const s = document.getElementById('type-filter'); s.value = ''; s.dispatchEvent(new Event('change'));"
    )

    # The chart is drawn with the posted types in it.
    wait_until(
        lambda: browser.execute_script(
            "const legend = document.querySelector('#chart-minutes .u-legend');"
            "return !!legend && legend.textContent.includes('page_view') && legend.textContent.includes('signup')"
        ),
        30,
        "the per-minute chart to show both types",
    )

    # Markup in an event is shown as those characters, and runs nothing.
    hostile_ping = post(service, {"eventType": "xss", "eventId": HOSTILE, "properties": {"html": HOSTILE}})
    wait_until(lambda: [hostile_ping, HOSTILE] in browser.execute_script(ROWS), 30, "the hostile event")
    browser.execute_script(
        "Array.from(document.querySelectorAll('#events tbody tr'))"
        ".find(r => r.dataset.pingId === arguments[0]).click()",
        hostile_ping,
    )
    detail = browser.execute_script("return document.getElementById('detail-text').textContent")
    assert HOSTILE.replace('"', '\\"') in detail
    cell_texts = browser.execute_script(
        "return Array.from(document.querySelectorAll('#events tbody td')).map(td => td.textContent)"
    )
    assert any(HOSTILE in text for text in cell_texts)  # in the properties' preview
    assert browser.execute_script("return document.querySelectorAll('main img').length") == 0
    assert browser.execute_script("return window.__pwned === undefined")

    (ROOT / "build" / "ci").mkdir(parents=True, exist_ok=True)
    # The click paused the table: close the row and carry on live, as the page looks most of the time.
    browser.execute_script(
        "document.getElementById('close-detail').click(); document.getElementById('pause').click();"
        "window.scrollTo(0, 0)"
    )
    wait_until(lambda: browser.execute_script("return document.getElementById('paused-note').hidden"), 30, "live")
    browser.save_screenshot(str(ROOT / "build" / "ci" / "console.png"))
    browser.get("about:blank")


GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
BOT_SHARE = (
    "return Array.from(document.querySelectorAll('#bot-share tbody tr'))"
    ".map(r => Array.from(r.cells).map(c => c.textContent))"
)


def test_people_and_bots_are_shown_apart_and_the_switch_leaves_bots_out(start_service, start_console, browser):
    service = start_service()
    console = start_console(service.data_dir, service.url + "/metrics")
    person = post(service, {"eventType": "page_view", "eventId": "person"})
    crawled = service.post({"messageBody": [{"eventType": "page_view", "eventId": "crawler"}]},
                           headers={"User-Agent": GOOGLEBOT})
    assert crawled.status_code == 201, crawled.text
    crawler = orjson.loads(crawled.json()["value"])["pingId"]
    browser.get(console + "/")
    wait_until(lambda: browser.execute_script(BOT_SHARE) == [["page_view", "1", "1", "50%"]], 30,
               "the share of bots per type")
    both = {(person, "person"), (crawler, "crawler")}
    wait_until(lambda: {tuple(row) for row in browser.execute_script(ROWS)} == both, 30, "both events live")
    clients = browser.execute_script(
        "return Array.from(document.querySelectorAll('#events tbody tr')).map(r => r.cells[4].textContent)"
    )
    assert any("bot: Googlebot (crawler)" in client for client in clients)
    browser.execute_script("document.getElementById('hide-bots').click()")
    wait_until(lambda: browser.execute_script(ROWS) == [[person, "person"]], 30, "the bot's event left out")
    wait_until(
        lambda: browser.execute_script(
            "return Array.from(document.querySelectorAll('#top-types tbody tr')).map(r => r.textContent)"
        ) == ["page_view1"],
        30,
        "the top types counting people only",
    )
    browser.get("about:blank")


def test_a_key_is_needed_off_loopback_and_asked_for_with_it(start_service, start_console, tmp_path):
    service = start_service()
    not_started = subprocess.run(
        [sys.executable, "-m", "collector", "console", "--bind", "0.0.0.0:8700"],
        cwd=ROOT, env={**os.environ, "COLLECTOR_DATA_DIR": str(service.data_dir)}, capture_output=True, text=True,
        timeout=60,
    )
    assert not_started.returncode == 2
    assert not_started.stderr.strip().splitlines() == [
        "collector: --bind 0.0.0.0:8700 is reachable from other machines: set COLLECTOR_CONSOLE_KEY "
        "(at least 16 characters), or bind to loopback and use an SSH tunnel"
    ]
    key = "console-key-0123456789"
    console = start_console(service.data_dir, service.url + "/metrics", env={"COLLECTOR_CONSOLE_KEY": key})
    assert requests.get(console + "/api/events", timeout=10).status_code == 401
    assert requests.get(console + "/api/events", auth=("ops", key), timeout=10).status_code == 200
    assert requests.get(console + "/", headers={"Authorization": f"Bearer {key}"}, timeout=10).status_code == 200


def test_rejected_requests_come_from_the_collectors_metrics(start_service, start_console):
    service = start_service(event_types="allowed")
    console = start_console(service.data_dir, service.url + "/metrics")
    for _ in range(3):
        assert service.post({"messageBody": [{"eventType": "not_allowed"}]}).status_code == 400
    # The console samples the metrics every 15 s, and when asked, at most every 5 s; two samples make a count.
    wait_until(
        lambda: requests.get(console + "/api/overview", timeout=10).json()["rejections"]["lastHour"].get(
            "invalid_event_type") == 3,
        20,
        "the console to count the three rejected requests",
    )


def test_plan_violations_come_from_the_collectors_metrics_beside_the_rejections(start_service, start_console, tmp_path):
    plan = tmp_path / "plan.json"
    plan.write_text(
        '{"eventTypes": {"buy": {"properties": {"type": "object", "required": ["sku"]}}}, "otherEventTypes": "allow"}'
    )
    service = start_service(tracking_plan=str(plan))
    console = start_console(service.data_dir, service.url + "/metrics")
    for _ in range(3):
        assert service.post({"messageBody": [{"eventType": "buy", "properties": {}}]}).status_code == 201
    wait_until(
        lambda: requests.get(console + "/api/overview", timeout=10).json()["planViolations"]["lastHour"]
        == [["buy", "/properties/sku", 3]],
        20,
        "the console to count the three flagged events",
    )
