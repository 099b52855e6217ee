"""Dead letters on the console's page in real headless Chromium: opened in full, replayed only where allowed.

A letter whose body holds markup is opened from the Rejections list: its body
shows those characters and runs nothing. A console started without
--allow-replay shows no replay button; one started with it (and its key)
does, and the button stores the letter's events through the replay.
"""

from __future__ import annotations

import pytest
import requests

from collector.ingest.keys import key_id
from tests.servers import wait_until

pytestmark = pytest.mark.system

HOSTILE = '<img src=x onerror="window.__pwned = 1">'
CONSOLE_KEY = "console-key-0123456789abcdef"
WRITE_KEY = "live-write-key-0123456789"
WRONG = "revoked-write-key-9876543210"
EVIL = "https://evil.example"
ROWS = (
    "return Array.from(document.querySelectorAll('#rejected-letters tbody tr'))"
    ".map(r => [r.cells[1].textContent, r.cells[4].textContent])"
)
CODES = ["cors_preflight_refused", "invalid_write_key", "invalid_event_type"]


def open_letter(browser, console: str, code: str) -> None:
    browser.get(console + "/")
    wait_until(lambda: [row[0] for row in browser.execute_script(ROWS)] == CODES, 30, "the letters in the list")
    browser.execute_script(
        "Array.from(document.querySelectorAll('#rejected-letters tbody tr'))"
        ".find(r => r.cells[1].textContent === arguments[0]).click()",
        code,
    )
    wait_until(lambda: browser.execute_script("return !document.getElementById('letter').hidden"), 30,
               "the letter to open")


def test_a_dead_letter_opens_in_full_as_text_and_replays_only_where_allowed(start_service, start_console, browser):
    service = start_service(dead_letter="on", event_types="view", cors_origins="https://shop.example",
                            api_keys=WRITE_KEY)
    body = {"messageBody": [{"eventType": "signup", "eventId": "s-1", "properties": {"html": HOSTILE}}]}
    assert service.post(body, headers={"Authorization": f"Bearer {WRITE_KEY}"}).status_code == 400
    assert service.post(body, headers={"Authorization": f"Bearer {WRONG}"}).status_code == 401
    preflight = {"Origin": EVIL, "Access-Control-Request-Method": "PUT"}
    assert requests.options(service.url + "/collect/event", headers=preflight, timeout=30).status_code == 204

    console = start_console(service.data_dir, service.url + "/metrics")
    open_letter(browser, console, "invalid_event_type")
    # The refusals at the door say what to fix: the origin and method, the key id tried (never the key).
    details = dict(browser.execute_script(ROWS))
    assert details["cors_preflight_refused"] == f"preflight from {EVIL} for PUT"
    assert details["invalid_write_key"] == f"key id {key_id(WRONG)} tried"
    assert WRONG not in browser.page_source
    shown = browser.execute_script("return document.getElementById('letter-body').textContent")
    assert HOSTILE.replace('"', '\\"') in shown and '"eventType":"signup"' in shown
    fields = browser.execute_script("return document.getElementById('letter-fields').textContent")
    assert "invalid_event_type" in fields and "127.0.0.1" in fields
    assert browser.execute_script("return document.querySelectorAll('#letter img').length") == 0
    assert browser.execute_script("return window.__pwned === undefined")
    assert browser.execute_script("return document.getElementById('replay-letter').hidden") is True

    # With its key and --allow-replay, and the type now allowed, the button replays the letter.
    replaying = start_console(
        service.data_dir, service.url + "/metrics", "--allow-replay",
        env={"COLLECTOR_CONSOLE_KEY": CONSOLE_KEY, "COLLECTOR_EVENT_TYPES": "view,signup"},
    )
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {"Authorization": f"Bearer {CONSOLE_KEY}"}})
    try:
        open_letter(browser, replaying, "invalid_event_type")
        assert browser.execute_script("return document.getElementById('replay-letter').hidden") is False
        browser.execute_script("document.getElementById('replay-letter').click()")
        wait_until(
            lambda: browser.execute_script("return document.getElementById('replay-state').textContent")
            .startswith("stored"),
            60, "the replay to store the letter",
        )
        assert [event["eventId"] for event in service.events()] == ["s-1"]
        assert browser.execute_script("return document.getElementById('replay-letter').hidden") is True
    finally:
        browser.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {}})
        browser.get("about:blank")
