"""`collector deadletter replay` on letters the real service wrote, run as the real CLI: what ends up stored."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import orjson
import pytest

from collector.ingest.eventtime import format_time, parse_time
from collector.ingest.keys import key_id
from tests.processes import ROOT, wait_until
from tests.servers import read_events

pytestmark = pytest.mark.system

KEY = "replay-test-key-0123456789"


def collector(data_dir, *args, **settings) -> subprocess.CompletedProcess:
    env = {"COLLECTOR_DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin"}
    env.update({f"COLLECTOR_{name.upper()}": value for name, value in settings.items()})
    return subprocess.run(
        [sys.executable, "-m", "collector", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def letters(data_dir) -> list[dict]:
    listed = collector(data_dir, "deadletter", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    return [orjson.loads(line) for line in listed.stdout.splitlines()]


def batch(event_type: str, *event_ids: str, **extra) -> dict:
    return {"messageBody": [{"eventType": event_type, "eventId": event_id} for event_id in event_ids], **extra}


def race_until_a_409(service) -> None:
    """Copies of keyed requests racing on the workers until at least one copy got 409 (bounded)."""
    with ThreadPoolExecutor(8) as pool:
        for _ in range(40):
            request = batch("race", str(uuid.uuid4()), str(uuid.uuid4()))
            key = {"Idempotency-Key": f"race-{uuid.uuid4()}", "Connection": "close"}
            statuses = list(
                pool.map(lambda _, request=request, key=key: service.post(request, headers=key).status_code, range(16))
            )
            assert set(statuses) <= {201, 409}, statuses
            if 409 in statuses:
                return
    pytest.fail("no copy of 40 races of 16 got a 409")


def test_replay_stores_no_second_copy_of_what_the_service_stored(start_service, tmp_path):
    data_dir = tmp_path / "data"
    service = start_service(data_dir=data_dir, dead_letter="on", event_types="race")
    race_until_a_409(service)
    # Refused for good at first (signup not yet allowed); the client resends after the fix.
    keyed, unkeyed = batch("signup", "s-1"), batch("signup", "s-2")
    assert service.post(keyed, headers={"Idempotency-Key": "signup-1"}).status_code == 400
    assert service.post(unkeyed).status_code == 400
    service.stop()
    fixed = start_service(data_dir=data_dir, dead_letter="on", event_types="race,signup")
    assert fixed.post(keyed, headers={"Idempotency-Key": "signup-1"}).status_code == 201
    assert fixed.post(unkeyed).status_code == 201
    fixed.stop()
    codes = Counter(letter["code"] for letter in letters(data_dir))
    assert codes["idempotency_key_in_flight"] >= 1 and codes["invalid_event_type"] == 2, codes
    stored_before = sorted(event["eventId"] for event in read_events(data_dir))

    replayed = collector(data_dir, "deadletter", "replay", event_types="race,signup")
    assert replayed.returncode == 0, replayed.stderr
    assert sorted(event["eventId"] for event in read_events(data_dir)) == stored_before, replayed.stdout
    assert f"never replayed: {codes['idempotency_key_in_flight']} idempotency_key_in_flight" in replayed.stdout
    assert "0 stored" in replayed.stdout and "2 already stored" in replayed.stdout


def test_replayed_events_keep_their_key_id_and_their_clients_correct_clock(start_service, tmp_path):
    data_dir = tmp_path / "data"
    service = start_service(data_dir=data_dir, dead_letter="on", event_types="page_view", api_keys=KEY)
    sent = time.time()
    body = batch("signup", "c-1", messageheader={"sentAt": format_time(sent)})
    body["messageBody"][0]["timestamp"] = format_time(sent - 1)
    refused = service.post(body, headers={"Authorization": f"Bearer {KEY}"})
    assert refused.status_code == 400
    service.stop()
    [letter] = letters(data_dir)
    # The replay comes later than the skew threshold after the letter: a
    # replay that measured skew against its own time would shift the event.
    wait_until(lambda: time.time() > parse_time(letter["receivedAt"]) + 8, 30, "the letter to be 8 s old")
    replayed = collector(
        data_dir, "deadletter", "replay", event_types="page_view,signup", api_keys=KEY, clock_skew_seconds="4"
    )
    assert replayed.returncode == 0, replayed.stderr
    [event] = read_events(data_dir)
    seen = (event["timestamp"], event.get("clockSkewSeconds"), event["client"].get("keyId"))
    assert seen == (format_time(sent - 1), None, key_id(KEY)), "as sent, no skew, the key's id"


def test_two_replays_at_once_store_each_letter_once(tmp_path):
    data_dir = tmp_path / "data"
    (data_dir / "deadletters").mkdir(parents=True)
    received = format_time(time.time())
    with open(data_dir / "deadletters" / "deadletters-20261203T000000.000000Z-h-1.jsonl", "wb") as out:
        for n in range(1000):
            body = orjson.dumps(batch("signup", f"e-{n}")).decode()
            out.write(orjson.dumps({"id": f"letter-{n}", "receivedAt": received, "status": 400,
                                    "code": "invalid_event_type", "body": body, "bodyBytes": len(body)}) + b"\n")
    env = {"COLLECTOR_DATA_DIR": str(data_dir), "COLLECTOR_EVENT_TYPES": "signup", "PATH": "/usr/bin:/bin"}
    command = [sys.executable, "-m", "collector", "deadletter", "replay"]
    both = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    # communicate, not wait: 1,000 "stored" lines fill a pipe. One blocked on it
    # while holding the lock only makes the other exit 75 sooner.
    errors = [replay.communicate(timeout=120)[1] for replay in both]
    results = [(replay.returncode, err) for replay, err in zip(both, errors, strict=True)]
    assert {code for code, _ in results} <= {0, 75}, results
    for code, err in results:
        assert code == 0 or "replay.lock" in err
    events = read_events(data_dir)
    assert len(events) == 1000 and len({event["eventId"] for event in events}) == 1000
