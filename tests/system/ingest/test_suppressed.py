"""Suppressed ids against the real service with two workers: refused, reloaded on SIGHUP, kept when the file breaks."""

from __future__ import annotations

import collections
import http.client
import json
import os
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

SETTINGS = dict(workers="2", rate_limit="1000000 per minute", access_log="off")


def listed(tmp_path: Path, *ids: str) -> Path:
    path = tmp_path / "suppressed-ids.txt"
    replace(path, "# people who asked not to be collected\n" + "".join(f"{one}\n" for one in ids))
    return path


def replace(path: Path, text: str) -> None:
    """Write the file whole, as an editor saving it (or `forget --suppress`) does: never half a file."""
    temporary = path.with_suffix(".tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


def post(port: int, event: dict) -> tuple[int | str, str | None]:
    """The status and `code` of one POST of `event` on a new connection, so that either worker may take it."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        body = json.dumps({"messageBody": [event]})
        connection.request("POST", "/collect/event", body, {"Content-Type": "application/json", "Connection": "close"})
        answer = connection.getresponse()
        text = answer.read()
        return answer.status, (json.loads(text).get("code") if answer.status >= 400 else None)
    except OSError as error:
        return type(error).__name__, None
    finally:
        connection.close()


def view(user_id: str, number: int | None = None) -> dict:
    event = {"eventType": "page_view", "userId": user_id}
    return event if number is None else {**event, "eventId": f"e{number}"}


def test_the_service_refuses_a_listed_id_in_every_worker_and_stores_the_others(start_service, tmp_path):
    service = start_service(suppressed_ids_file=str(listed(tmp_path, "gone-user")), **SETTINGS)
    for number in range(8):  # new connections: both workers answer some
        assert post(service.port, view("gone-user")) == (403, "suppressed")
        assert post(service.port, view("someone", number)) == (201, None)
    assert sorted(event["eventId"] for event in service.events()) == [f"e{number}" for number in range(8)]
    metrics = requests.get(service.url + "/metrics", timeout=10).text
    assert 'collector_rejected_requests_total{code="suppressed"} 8.0' in metrics


def load_of(port: int) -> TwoKindsLoad:
    """In turn, an event of a person never listed and one of a person the reload lists."""

    def send(number: int) -> tuple[str, dict, tuple[int | str, str | None]]:
        kind = "leaving" if number % 2 else "staying"
        event = view("leaving-user" if kind == "leaving" else f"user-{number}", number)
        return kind, event, post(port, event)

    return TwoKindsLoad(send)


def test_a_sighup_under_load_takes_the_new_list_and_refuses_no_request_for_another_reason(start_service, tmp_path):
    path = listed(tmp_path, "gone-user")
    service = start_service(suppressed_ids_file=str(path), **SETTINGS)
    load = load_of(service.port)
    try:
        load.wait_for_more()
        replace(path, path.read_text() + "leaving-user\n")
        hup_and_wait(service)
        load.wait_for_more()
    finally:
        outcomes = load.stop()
    assert len(outcomes) >= 80
    staying = collections.Counter(str(outcome) for kind, _, outcome in outcomes if kind == "staying")
    leaving = collections.Counter(str(outcome) for kind, _, outcome in outcomes if kind == "leaving")
    assert set(staying) == {"(201, None)"}, staying
    assert set(leaving) <= {"(201, None)", "(403, 'suppressed')"} and leaving["(403, 'suppressed')"] > 0, leaving
    wait_until_stored_once(
        service, collections.Counter(event["eventId"] for _, event, outcome in outcomes if outcome[0] == 201)
    )
    for _ in range(4):  # every worker now has the new list
        assert post(service.port, view("leaving-user")) == (403, "suppressed")


def test_a_broken_file_at_sighup_keeps_the_service_and_the_old_list(start_service, tmp_path):
    path = listed(tmp_path, "gone-user")
    service = start_service(
        suppressed_ids_file=str(path), extra_env={"GUNICORN_CMD_ARGS": "--max-requests 20"}, **SETTINGS
    )
    replace(path, "gone-user\nnext-user\n" + "x" * 257 + "\n")
    os.kill(service.process.pid, signal.SIGHUP)
    line = (
        "collector: reload refused, the service keeps its configuration: "
        f"COLLECTOR_SUPPRESSED_IDS_FILE: {path}: line 3: an id longer than 256 characters"
    )
    wait_until(lambda: line in service.log(), 60, "the reload refused")
    assert service.process.poll() is None, "the master is still running"
    assert len([text for text in service.log().splitlines() if "reload refused" in text]) == 1
    # Workers recycled (max_requests) with the file still broken start with the list in effect too.
    for number in range(30):
        assert post(service.port, view("gone-user")) == (403, "suppressed")
        assert post(service.port, view("next-user", number)) == (201, None)
    assert service.log().count("Autorestarting worker") >= 2
    # Fixed, the next SIGHUP takes it.
    replace(path, "gone-user\nnext-user\n")
    hup_and_wait(service)
    for _ in range(4):
        assert post(service.port, view("next-user")) == (403, "suppressed")


def test_a_file_inside_the_data_directory_stops_start_up_and_collector_settings_in_one_line(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    inside = data / "suppressed-ids.txt"
    inside.write_text("gone-user\n")
    env = service_env(data, suppressed_ids_file=str(inside))
    expected = f"collector: COLLECTOR_SUPPRESSED_IDS_FILE={inside} is inside COLLECTOR_DATA_DIR={data}: keep it outside"
    started = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "app:app"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    assert started.returncode != 0
    [line] = started.stderr.strip().splitlines()
    assert line.startswith(expected)
    checked = subprocess.run(
        [sys.executable, "-m", "collector", "settings"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert checked.returncode == 2
    [line] = checked.stderr.strip().splitlines()
    assert line.startswith(expected)
    outside = tmp_path / "suppressed-ids.txt"
    outside.write_text("gone-user\n")
    env["COLLECTOR_SUPPRESSED_IDS_FILE"] = str(outside)
    checked = subprocess.run(
        [sys.executable, "-m", "collector", "settings"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert checked.returncode == 0, checked.stderr
    assert f"{outside} (1 id)" in checked.stdout
