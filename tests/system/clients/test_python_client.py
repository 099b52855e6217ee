"""clients/python (the collector-client package) against the real service under gunicorn."""

from __future__ import annotations

import json
import logging
import sqlite3
import subprocess
import sys
import threading
import uuid

import pytest

from collector.idempotency.state import FILE_NAME
from collector.ingest.keys import key_id
from collector_client import Client
from tests.processes import ROOT, free_port, wait_until
from tests.system.clients.lossy_proxy import LossyProxy

pytestmark = pytest.mark.system

KEY = "client-key-0123456789abcdef"
PACKAGE_SOURCE = ROOT / "clients" / "python" / "src"


@pytest.fixture
def make_client():
    """Client(url, ...) with quick backoffs; closed after the test whatever happened."""
    clients = []

    def make(url, **options) -> Client:
        options = {"first_backoff": 0.05, "max_backoff": 0.5, "at_exit": False, **options}
        client = Client(url, **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close(timeout=60)


def statuses(service) -> list[str]:
    """POST /collect/event's statuses in the access log, written after each answer: stop the service to see the last."""
    lines = [line for line in service.log().splitlines() if '"path":"/collect/event"' in line]
    return [line.split('"status":')[1].split(",")[0] for line in lines]


def stored_ids(service, event_type=None) -> list[str]:
    return [event["eventId"] for event in service.events() if event_type in (None, event["eventType"])]


def test_events_from_many_threads_arrive_exactly_once_with_the_write_key(start_service, make_client):
    service = start_service(api_keys=KEY, rate_limit="1000000/hour", workers="2")
    client = make_client(service.url, write_key=KEY, batch_size=50, header={"job": "nightly"})
    sent: list[list[str]] = [[] for _ in range(4)]

    def job(n):
        sent[n].extend(client.track("row_exported", {"thread": n, "i": i}, userId=f"u-{n}") for i in range(250))

    threads = [threading.Thread(target=job, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert client.flush(timeout=120)
    every_id = [event_id for ids in sent for event_id in ids]
    assert sorted(stored_ids(service)) == sorted(every_id) and len(set(every_id)) == 1000
    stored = service.events()
    assert {event["client"]["keyId"] for event in stored} == {key_id(KEY)}
    assert {json.dumps(event["messageheader"]) for event in stored} == {'{"job": "nightly"}'}
    assert client.stats == {"sent": 1000, "batches": 20, "retries": 0, "refused": 0, "gave_up": 0}


def test_a_batch_whose_answer_is_lost_is_resent_and_stored_once(start_service, make_client):
    service = start_service()
    with LossyProxy(service.port, lose=1) as proxy:
        client = make_client(proxy.url)
        ids = [client.track("invoice_paid", {"n": n}) for n in range(10)]
        assert client.flush(timeout=60)
    # The collector stored the first copy and answered it; the client never saw that answer.
    assert proxy.forwarded == [201, 201]
    assert client.stats["retries"] == 1 and client.stats["sent"] == 10
    assert stored_ids(service) == ids


def test_a_503_is_resent_after_its_retry_after_and_stored_once(start_service, make_client):
    service = start_service(workers="2")
    # A keyed request creates the idempotency state's file, as in a running service.
    warm = service.post({"messageBody": [{"eventType": "warm"}]}, headers={"Idempotency-Key": f"warm-{uuid.uuid4()}"})
    assert warm.status_code == 201
    holder = sqlite3.connect(service.data_dir / FILE_NAME, isolation_level=None, timeout=30)
    try:
        holder.execute("BEGIN EXCLUSIVE")  # another process holds the state: the collector answers 503
        client = make_client(service.url, flush_interval=0.05)
        ids = [client.track("locked", {"n": n}) for n in range(3)]
        wait_until(lambda: "503" in statuses(service), 60, "the collector to refuse the batch with a 503")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert client.flush(timeout=60)
    assert stored_ids(service, "locked") == ids
    assert client.stats["retries"] >= 1 and client.stats["sent"] == 3


def test_a_429_is_waited_out_as_its_retry_after_says_and_nothing_is_lost(start_service, make_client):
    # A window long enough that the client's first batch falls in it even on a busy machine.
    service = start_service(rate_limit="1 per 10 seconds")
    assert service.post({"messageBody": [{"eventType": "first"}]}).status_code == 201
    # Backoffs of 0.05 s: a client that ignored Retry-After would meet several 429s.
    client = make_client(service.url, first_backoff=0.05, max_backoff=0.05, max_attempts=100)
    ids = [client.track("later", {"n": n}) for n in range(20)]
    assert client.flush(timeout=60)
    assert stored_ids(service, "later") == ids
    service.stop()
    # Sorted: two workers write the log, not necessarily in the order they answered.
    assert sorted(statuses(service)) == ["201", "201", "429"]


def test_a_full_queue_drops_the_newest_counts_them_and_logs_once(start_service, make_client, caplog):
    caplog.set_level(logging.WARNING, logger="collector_client")
    service = start_service()
    client = make_client(service.url, max_queue=5, batch_size=100, flush_interval=3600)
    results = [client.track("burst", {"n": n}) for n in range(8)]
    assert results[5:] == [None, None, None] and None not in results[:5]
    assert client.dropped == 3
    assert caplog.text.count("queue full") == 1
    assert client.flush(timeout=60)
    assert stored_ids(service) == results[:5]


def test_a_final_refusal_is_not_resent_and_the_batch_is_counted_as_dropped(start_service, make_client, caplog):
    service = start_service(api_keys=KEY)
    client = make_client(service.url, write_key="not-the-key-0123456789")
    client.track("x")
    assert client.flush(timeout=60)
    assert client.stats["refused"] == 1 and client.stats["retries"] == 0
    assert "refused for good: 401 invalid_write_key" in caplog.text
    service.stop()
    assert statuses(service) == ["401"] and service.events() == []


def test_a_collector_not_up_yet_gets_the_gzipped_batch_once_it_is(start_service, make_client):
    port = free_port()
    client = make_client(f"http://127.0.0.1:{port}", flush_interval=0.05, max_attempts=1000, compress=True)
    ids = [client.track("early", {"n": n}) for n in range(5)]
    # The job starts first, finds nothing listening, and backs off; the collector comes up meanwhile.
    wait_until(lambda: client.stats["retries"] >= 1, 60, "the client to meet a refused connection")
    service = start_service(bind=f"127.0.0.1:{port}")
    assert client.flush(timeout=60)
    assert stored_ids(service) == ids
    assert client.stats["sent"] == 5


JOB = """
import json, sys
from collector_client import Client
client = Client(sys.argv[1], batch_size=100, flush_interval=3600)
print(json.dumps([client.track("job_step", {"n": n}) for n in range(250)]))
# No flush, no close: the interpreter's exit sends what is queued.
"""


def test_a_job_that_exits_without_flushing_delivers_everything_at_exit(start_service):
    service = start_service()
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PACKAGE_SOURCE)}
    done = subprocess.run(
        [sys.executable, "-c", JOB, service.url], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    # Sorted: the three batches may land on either worker, each writing a file of its own.
    assert sorted(stored_ids(service)) == sorted(json.loads(done.stdout))
    service.stop()
    assert statuses(service) == ["201", "201", "201"]
