"""The console over two data directories, as on the machine that gathers several VMs' files: the directory of a
real collector under gunicorn (its open file being written) and a copy shipped from another VM (compressed files).
Every event is shown with its instance, through the API and on the page in real headless Chromium.
"""

from __future__ import annotations

import gzip
import time
import uuid
from itertools import pairwise

import orjson
import pytest
import requests

from collector.ingest.eventtime import format_time
from tests.servers import wait_until

pytestmark = pytest.mark.system

STORE_INSTANCES = (
    "return Array.from(document.querySelectorAll('#store-instances tbody tr')).map(r => r.cells[0].textContent)"
)


def shipped_copy(directory, count: int) -> list[str]:
    """vm-b's files as rsync ships them: finished and compressed. The eventIds written."""
    directory.mkdir(parents=True)
    ids = []
    for file in range(2):
        lines = []
        for n in range(count):
            event_id = f"b-{file}-{n}-{uuid.uuid4()}"
            ids.append(event_id)
            lines.append(orjson.dumps({
                "eventType": "page_view", "eventId": event_id, "pingId": str(uuid.uuid4()),
                "receivedAt": format_time(time.time() - 600 + file * 60 + n),
                "client": {"ip": "198.51.100.9", "userAgent": "shipped"},
            }) + b"\n")
        name = f"events-20261206T09{file}000.000000Z-vm-b-4242-{file + 1:06d}.jsonl.gz"
        with gzip.open(directory / name, "wb") as out:
            out.write(b"".join(lines))
    return ids


def test_events_of_both_directories_each_with_its_instance(start_service, start_console, browser, tmp_path):
    service = start_service(data_dir=tmp_path / "vm-a")
    shipped = shipped_copy(tmp_path / "copies" / "vm-b", 3)
    console = start_console(service.data_dir, service.url + "/metrics",
                            "--data-dir", str(service.data_dir), str(tmp_path / "copies" / "vm-b"))
    posted = []
    for n in range(3):
        event_id = f"a-{n}-{uuid.uuid4()}"
        answer = service.post({"messageBody": [{"eventType": "signup", "eventId": event_id}]})
        assert answer.status_code == 201, answer.text
        posted.append(event_id)
    assert any(path.name.endswith(".jsonl.open") for path in service.data_dir.iterdir())

    def shown() -> dict[str, str]:
        events = requests.get(console + "/api/events", timeout=10).json()["events"]
        return {event["eventId"]: event["instance"] for event in events}

    expected = {**dict.fromkeys(posted, "vm-a"), **dict.fromkeys(shipped, "vm-b")}
    wait_until(lambda: shown() == expected, 30, "every event of both directories with its instance")
    events = requests.get(console + "/api/events", timeout=10).json()["events"]
    assert [event["instance"] for event in events[:3]] == ["vm-a"] * 3  # the newest: just posted
    assert all(a["receivedAt"] >= b["receivedAt"] for a, b in pairwise(events))

    overview = requests.get(console + "/api/overview", timeout=10).json()
    assert overview["instances"] == ["vm-a", "vm-b"]
    assert dict(overview["topTypes"]) == {"page_view": 6, "signup": 3}
    states = {store["instance"]: {f["state"] for f in store["files"]} for store in overview["stores"]}
    assert states == {"vm-a": {"open"}, "vm-b": {"compressed"}}

    browser.get(console + "/")
    wait_until(lambda: browser.execute_script(STORE_INSTANCES) == ["vm-a", "vm-b"], 30,
               "the store panel of each instance on the page")
    files = browser.execute_script(
        "return Array.from(document.querySelectorAll('#store-files tbody tr')).map(r => r.cells[0].textContent)"
    )
    assert any(name.startswith("vm-b/events-") for name in files)
    # The live table: an instance column, each row's instance in its last cell.
    rows = (
        "return Array.from(document.querySelectorAll('#events tbody tr'))"
        ".map(r => [r.dataset.eventId, r.cells[r.cells.length - 1].textContent])"
    )
    wait_until(lambda: dict(browser.execute_script(rows)) == expected, 30, "each row with its instance")
    header = browser.execute_script("return document.querySelector('#events thead th:last-child').textContent")
    assert header.lower() == "instance"
    browser.get("about:blank")
