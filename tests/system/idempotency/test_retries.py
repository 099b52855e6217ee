"""Retries against the real service with several workers: stored once, answered alike.

Each copy of a request gets a new connection, so copies land on either worker.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor

import orjson
import pytest

from tests.processes import ROOT

pytestmark = pytest.mark.system


def body(event_type: str, *event_ids: str) -> dict:
    return {"messageBody": [{"eventType": event_type, "eventId": event_id} for event_id in event_ids]}


@pytest.mark.parametrize("storage", ["sqlite", "memcached"])
def test_racing_copies_of_one_request_store_it_once_and_share_one_201(start_service, memcached, storage):
    settings = {"workers": "2", "rate_limit_storage": memcached.uri} if storage == "memcached" else {}
    service = start_service(**settings)
    if storage == "memcached":
        service.wait_for_workers(2)
    request = body("race", str(uuid.uuid4()), str(uuid.uuid4()))
    key = {"Idempotency-Key": f"race-{uuid.uuid4()}"}
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: service.post(request, headers={**key, "Connection": "close"}), range(16)))
    statuses = [answer.status_code for answer in answers]
    assert set(statuses) <= {201, 409}, statuses
    assert 201 in statuses
    assert len({answer.content for answer in answers if answer.status_code == 201}) == 1, "one and the same 201"
    assert all(answer.headers.get("Retry-After") for answer in answers if answer.status_code == 409)
    # A retry after the race gets the very same 201, and nothing is stored again.
    again = service.post(request, headers=key)
    assert again.status_code == 201 and again.content == next(a.content for a in answers if a.status_code == 201)
    assert len([event for event in service.events() if event["eventType"] == "race"]) == 2


def test_the_same_key_with_another_body_is_a_422(start_service):
    service = start_service()
    key = {"Idempotency-Key": "order-1234"}
    assert service.post(body("a", "e-1"), headers=key).status_code == 201
    other = service.post(body("a", "e-2"), headers=key)
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
    bad = service.post(body("a", "e-3"), headers={"Idempotency-Key": "é"})
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_idempotency_key")
    assert [event["eventId"] for event in service.events()] == ["e-1"]


def test_a_refused_request_gives_its_key_back(start_service):
    service = start_service(event_types="allowed")
    key = {"Idempotency-Key": "retry-after-fix"}
    assert service.post(body("not-allowed", "e-1"), headers=key).status_code == 400
    assert service.post(body("allowed", "e-1"), headers=key).status_code == 201


def test_event_dedupe_drops_events_stored_before_and_survives_a_lost_state(start_service):
    service = start_service(dedupe="event", workers="1")
    first = service.post(body("d", "e-1", "e-2"))
    retry = service.post(body("d", "e-2", "e-3"))
    assert (first.status_code, retry.status_code) == (201, 201)
    assert sorted(event["eventId"] for event in service.events()) == ["e-1", "e-2", "e-3"]
    # The state is lost (deleted mid-run): at-least-once from then on, nothing lost.
    (service.data_dir / ".idempotency.sqlite3").unlink()
    for suffix in ("-wal", "-shm"):
        (service.data_dir / f".idempotency.sqlite3{suffix}").unlink(missing_ok=True)
    after = service.post(body("d", "e-3", "e-4"))
    assert after.status_code == 201
    ids = sorted(event["eventId"] for event in service.events())
    assert ids == ["e-1", "e-2", "e-3", "e-3", "e-4"]
    assert service.post(body("d", "e-4")).status_code == 201
    assert sorted(event["eventId"] for event in service.events()) == ids, "remembered again after the loss"


def test_dedupe_across_two_workers_sharing_memcached(start_service, memcached):
    service = start_service(dedupe="event", workers="2", rate_limit_storage=memcached.uri)
    service.wait_for_workers(2)
    ids = [str(uuid.uuid4()) for _ in range(20)]
    for event_id in ids:
        assert service.post(body("m", event_id), headers={"Connection": "close"}).status_code == 201
    for event_id in ids:  # every retry, on whichever worker
        assert service.post(body("m", event_id), headers={"Connection": "close"}).status_code == 201
    assert sorted(event["eventId"] for event in service.events()) == sorted(ids)
    memcached.stop()
    memcached.start()  # the state is gone: the next copies are stored again, and remembered
    assert service.post(body("m", ids[0]), headers={"Connection": "close"}).status_code == 201
    assert len(service.events()) == 21


def test_dead_letters_are_kept_listed_and_replayed_once_after_a_fix(start_service, tmp_path):
    data_dir = tmp_path / "letters"
    service = start_service(data_dir=data_dir, dead_letter="on", event_types="page_view", rate_limit="3 per hour")
    refused = service.post(body("signup", "e-1"))
    assert refused.status_code == 400
    assert service.post(b"{not json").status_code == 400
    service.post(body("page_view", "e-2"))
    assert service.post(body("page_view", "e-3")).status_code == 429  # counted, never kept
    service.stop()
    env = {"COLLECTOR_DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin"}

    def collector(*args, **settings):
        extra = {f"COLLECTOR_{k.upper()}": v for k, v in settings.items()}
        return subprocess.run(
            [sys.executable, "-m", "collector", *args], cwd=ROOT, env={**env, **extra},
            capture_output=True, text=True, timeout=60,
        )

    listed = collector("deadletter", "list", "--json")
    letters = [orjson.loads(line) for line in listed.stdout.splitlines()]
    assert [(letter["status"], letter["code"]) for letter in letters] == [
        (400, "invalid_event_type"),
        (400, "invalid_json"),
    ]
    assert letters[1]["body"] == "{not json"
    # The fix: signup is allowed now. Replay twice: stored once.
    for _ in range(2):
        replayed = collector("deadletter", "replay", event_types="page_view,signup")
        assert replayed.returncode == 0, replayed.stderr
    events = [orjson.loads(line) for line in collector("events", "cat").stdout.splitlines()]
    assert sorted(event["eventType"] for event in events) == ["page_view", "signup"]
    assert "1 stored" in replayed.stdout or "already" in replayed.stdout
