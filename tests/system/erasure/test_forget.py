"""`collector events forget|export` on the store a real service wrote, stopped (compressed, rotated, dead letters).

With the service running, the workers' open files are reached through
store/finishing.py: test_forget_under_load.py.
"""

from __future__ import annotations

import json

import pytest

from tests.servers import read_events
from tests.system.store.faults import collector_command

pytestmark = pytest.mark.system


def batch(user: str, start: int, count: int = 5) -> dict:
    return {"messageBody": [
        {"eventType": "view", "eventId": f"{user}-{n}", "userId": user, "properties": {"pad": "x" * 200}}
        for n in range(start, start + count)
    ]}


def test_forget_on_a_stopped_services_store_leaves_everyone_else_once_and_verify_passes(start_service, tmp_path):
    data_dir = tmp_path / "data"
    service = start_service(
        data_dir=data_dir, workers="2", compress="gzip", rotate_bytes="4096", dead_letter="on", dedupe="event"
    )
    try:
        for round_ in range(8):
            for user in ("u-gone", "u-kept"):
                assert service.post(batch(user, round_ * 5)).status_code == 201
        assert service.post({"messageBody": [{"eventType": "", "userId": "u-gone"}]}).status_code == 400
        assert service.post({"messageBody": [{"eventType": "", "userId": "u-kept"}]}).status_code == 400
    finally:
        service.stop()
    assert any(path.name.endswith(".jsonl.gz") for path in data_dir.iterdir())

    exported = collector_command("events", "export", "--user-id", "u-gone", "--data-dir", str(data_dir))
    assert exported.returncode == 0, exported.stderr
    lines = [json.loads(line) for line in exported.stdout.splitlines()]
    assert len(lines) == 41 and lines[-1]["code"]  # 40 events, then the dead letter

    erased = collector_command("events", "forget", "--user-id", "u-gone", "--data-dir", str(data_dir))
    assert erased.returncode == 0, erased.stderr
    assert "erased: 40 events" in erased.stdout and "deleted: 1 dead letter," in erased.stdout

    events = read_events(data_dir)
    assert sorted(event["eventId"] for event in events) == sorted(f"u-kept-{n}" for n in range(40))
    assert collector_command("events", "verify", "--data-dir", str(data_dir)).returncode == 0
    letters = collector_command("deadletter", "list", "--json", "--data-dir", str(data_dir)).stdout
    assert "u-kept" in letters and "u-gone" not in letters
    log = (data_dir / "erasures.log").read_text()
    assert "u-gone" not in log and json.loads(log)["events"] == 40

    again = collector_command("events", "forget", "--user-id", "u-gone", "--data-dir", str(data_dir))
    assert again.returncode == 0 and "erased: 0 events" in again.stdout
    # The service starts again on the erased store and takes events as before.
    service = start_service(data_dir=data_dir, workers="2", compress="gzip", dead_letter="on", dedupe="event")
    try:
        assert service.post(batch("u-kept", 100, 1)).status_code == 201
    finally:
        service.stop()
    assert service.server_errors() == []
