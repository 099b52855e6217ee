"""The tracking plan against the real service with two workers: refused, flagged, reloaded on SIGHUP, refused when bad.

The plan is tests/unit/plan/data/shop.json: six event types (page views, a
product viewed, added to the cart, a purchase with a context schema, a
signup, an app opened), otherEventTypes refuse.
"""

from __future__ import annotations

import collections
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.processes import ROOT, wait_until
from tests.servers import service_env
from tests.system.reloading import TwoKindsLoad, hup_and_wait, wait_until_stored_once

pytestmark = pytest.mark.system

SHOP = ROOT / "tests" / "unit" / "plan" / "data" / "shop.json"
GOOD = [
    {"eventType": "page_view", "properties": {"path": "/pricing", "referrer": None}},
    {"eventType": "product_viewed", "properties": {"sku": "A1", "price": 9.5, "currency": "EUR"}},
    {"eventType": "add_to_cart", "properties": {"sku": "A1", "quantity": 2}},
    {
        "eventType": "purchase",
        "properties": {"orderId": "0b8a5c1e-6d3f-4a47-9d1e-2f3a4b5c6d7e", "total": 19.0, "currency": "GBP"},
        "context": {"locale": "en-GB"},
    },
    {"eventType": "signup", "properties": {"email": "a@example.com", "plan": "free"}},
    {"eventType": "app_opened"},
]
SETTINGS = dict(workers="2", rate_limit="1000000 per minute", access_log="off")


def plan_copy(tmp_path: Path) -> Path:
    path = tmp_path / "plan.json"
    shutil.copy(SHOP, path)
    return path


def violations(service) -> dict[tuple[str, str], float]:
    text = requests.get(service.url + "/metrics", timeout=10).text
    found = {}
    for line in text.splitlines():
        if line.startswith("collector_plan_violations_total{"):
            labels, value = line[len("collector_plan_violations_total{") :].rsplit("} ", 1)
            pairs = dict(part.split("=", 1) for part in labels.split(","))
            found[(pairs["event_type"].strip('"'), pairs["path"].strip('"'))] = float(value)
    return found


def test_refuse_mode_answers_with_pointers_and_stores_nothing_of_the_request(start_service, tmp_path):
    service = start_service(tracking_plan=str(plan_copy(tmp_path)), tracking_plan_mode="refuse", **SETTINGS)
    for _ in range(4):  # to both workers, whichever takes each connection
        assert service.post({"messageBody": GOOD}, headers={"Connection": "close"}).status_code == 201
    bad = [
        *GOOD[:3],
        {"eventType": "purchase", "properties": {"orderId": "1234", "total": "19", "currency": "GBP"}},
        {"eventType": "signup", "properties": {"plan": "free"}},
        {"eventType": "checkout_started"},
    ]
    for _ in range(4):
        response = service.post({"messageBody": bad}, headers={"Connection": "close"})
        assert response.status_code == 400
        body = response.json()
        assert body["code"] == "tracking_plan_violation"
        assert body["details"] == {
            "messageBody": {
                "3": {
                    "/context/locale": ["required property missing"],
                    "/properties/orderId": ["not a valid uuid"],
                    "/properties/total": ["expected number, got string"],
                },
                "4": {"/properties/email": ["required property missing"]},
                "5": {"/eventType": ["not an event type of the tracking plan"]},
            }
        }
    assert collections.Counter(event["eventType"] for event in service.events()) == {
        event["eventType"]: 4 for event in GOOD
    }


def test_flag_mode_stores_flagged_events_and_counts_them_over_the_workers(start_service, tmp_path):
    service = start_service(tracking_plan=str(plan_copy(tmp_path)), **SETTINGS)
    bad = {"eventType": "add_to_cart", "properties": {"sku": "A1", "quantity": 100}}
    for _ in range(6):
        response = service.post({"messageBody": [*GOOD, bad]}, headers={"Connection": "close"})
        assert response.status_code == 201
    events = service.events()
    assert len(events) == 6 * 7
    flagged = [event for event in events if "planViolations" in event]
    assert len(flagged) == 6
    assert {json.dumps(event["planViolations"]) for event in flagged} == {
        json.dumps([{"path": "/properties/quantity", "message": "greater than the maximum 99"}])
    }
    assert violations(service) == {("add_to_cart", "/properties/quantity"): 6.0}


def post_kind(port: int, event: dict) -> int | str:
    """The status of one POST of `event` on a new connection (as beacons and clients through a reload do)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        body = json.dumps({"messageBody": [event]})
        connection.request("POST", "/collect/event", body, {"Content-Type": "application/json", "Connection": "close"})
        answer = connection.getresponse()
        answer.read()
        return answer.status
    except OSError as error:
        return type(error).__name__
    finally:
        connection.close()


def plan_load(port: int) -> TwoKindsLoad:
    """In turn, an event both plans pass and one only the new plan passes."""

    def send(number: int) -> tuple[str, dict, int | str]:
        kind = "changing" if number % 2 else "steady"
        properties = {"sku": f"s{number}", "quantity": 150 if kind == "changing" else 1}
        event = {"eventType": "add_to_cart", "eventId": f"e{number}", "properties": properties}
        return kind, event, post_kind(port, event)

    return TwoKindsLoad(send)


def raise_the_most_quantity(plan: Path, most: int) -> None:
    document = json.loads(plan.read_text())
    document["eventTypes"]["add_to_cart"]["properties"]["properties"]["quantity"]["maximum"] = most
    replace(plan, json.dumps(document))


def replace(path: Path, text: str) -> None:
    """Write the file whole, as an editor saving it does (a rename: never half a file)."""
    temporary = path.with_suffix(".tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


def test_a_sighup_under_load_takes_the_new_plan_and_refuses_or_loses_no_other_request(start_service, tmp_path):
    plan = plan_copy(tmp_path)
    service = start_service(tracking_plan=str(plan), tracking_plan_mode="refuse", **SETTINGS)
    load = plan_load(service.port)
    try:
        load.wait_for_more()
        raise_the_most_quantity(plan, 999)
        hup_and_wait(service)
        load.wait_for_more()
    finally:
        outcomes = load.stop()
    assert len(outcomes) >= 80
    steady = collections.Counter(str(outcome) for kind, _, outcome in outcomes if kind == "steady")
    changing = collections.Counter(str(outcome) for kind, _, outcome in outcomes if kind == "changing")
    assert set(steady) == {"201"}, steady
    assert set(changing) <= {"201", "400"} and changing["400"] > 0, changing
    wait_until_stored_once(
        service, collections.Counter(event["eventId"] for _, event, outcome in outcomes if outcome == 201)
    )
    for _ in range(4):  # every worker now has the new plan
        event = {"eventType": "add_to_cart", "properties": {"sku": "x", "quantity": 150}}
        assert post_kind(service.port, event) == 201


def test_a_broken_plan_at_sighup_keeps_the_service_and_the_old_plan(start_service, tmp_path):
    plan = plan_copy(tmp_path)
    service = start_service(
        tracking_plan=str(plan),
        tracking_plan_mode="refuse",
        extra_env={"GUNICORN_CMD_ARGS": "--max-requests 20"},
        **SETTINGS,
    )
    replace(plan, SHOP.read_text().replace('"maximum": 99', '"maximum": "lots"'))
    os.kill(service.process.pid, signal.SIGHUP)
    line = (
        "collector: reload refused, the service keeps its configuration: "
        f"COLLECTOR_TRACKING_PLAN: tracking plan {plan} at "
        "/eventTypes/add_to_cart/properties/properties/quantity/maximum: "
    )
    wait_until(lambda: line in service.log(), 60, "the reload refused")
    assert service.process.poll() is None, "the master is still running"
    assert len([text for text in service.log().splitlines() if "reload refused" in text]) == 1
    # Workers recycled (max_requests) with the file still broken start with the plan in effect too.
    too_many = {"eventType": "add_to_cart", "properties": {"sku": "x", "quantity": 150}}
    for _ in range(30):
        assert post_kind(service.port, GOOD[2]) == 201
        assert post_kind(service.port, too_many) == 400
    assert service.log().count("Autorestarting worker") >= 2
    assert service.process.poll() is None
    # Fixed, the next SIGHUP takes it.
    raise_the_most_quantity(plan, 999)
    hup_and_wait(service)
    assert post_kind(service.port, {"eventType": "add_to_cart", "properties": {"sku": "x", "quantity": 150}}) == 201


def test_a_bad_plan_stops_start_up_and_collector_settings_in_one_line(tmp_path):
    plan = tmp_path / "plan.json"
    plan.write_text(SHOP.read_text().replace('"minimum": 0', '"minimum": "none"', 1))
    env = service_env(tmp_path / "data", tracking_plan=str(plan))
    pointer = "/eventTypes/product_viewed/properties/properties/price/minimum"
    expected = f"COLLECTOR_TRACKING_PLAN: tracking plan {plan} at {pointer}: "
    started = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "app:app"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    assert started.returncode != 0
    [line] = started.stderr.strip().splitlines()
    assert line.startswith("collector: " + expected)
    assert not (tmp_path / "data").exists(), "nothing was started"
    checked = subprocess.run(
        [sys.executable, "-m", "collector", "settings"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert checked.returncode == 2
    [line] = checked.stderr.strip().splitlines()
    assert line.startswith("collector: " + expected)
    both = subprocess.run(
        [sys.executable, "-m", "collector", "settings"],
        cwd=ROOT, env={**env, "COLLECTOR_TRACKING_PLAN": str(SHOP), "COLLECTOR_EVENT_TYPES": "a"},
        capture_output=True, text=True, timeout=60,
    )
    assert both.returncode == 2
    assert both.stderr.strip().startswith("collector: COLLECTOR_TRACKING_PLAN and COLLECTOR_EVENT_TYPES are both set")
