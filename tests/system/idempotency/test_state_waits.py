"""The idempotency state's waits, against the real service: a locked file gets a prompt 503, never a late store."""

from __future__ import annotations

import sqlite3
import uuid

import pytest

from collector.idempotency.state import FILE_NAME
from tests.system.idempotency.test_retries import body

pytestmark = pytest.mark.system


def test_a_keyed_request_meeting_a_locked_state_gets_a_503_and_stores_nothing_then_its_retry_stores_once(
    start_service,
):
    service = start_service(workers="2")
    # A first keyed request creates the state's file, as in a running service.
    assert service.post(body("warm", "w-1"), headers={"Idempotency-Key": "warm-up"}).status_code == 201
    key = {"Idempotency-Key": f"locked-{uuid.uuid4()}"}
    holder = sqlite3.connect(service.data_dir / FILE_NAME, isolation_level=None, timeout=30)
    try:
        holder.execute("BEGIN EXCLUSIVE")  # another process holds the file's write lock
        # Answered while the lock is still held (released only after the answer).
        refused = service.post(body("locked", "l-1"), headers=key)
        assert refused.status_code == 503, refused.content
        assert refused.json()["code"] == "idempotency_state_busy"
        assert refused.headers.get("Retry-After")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert [event for event in service.events() if event["eventType"] == "locked"] == []
    stored = service.post(body("locked", "l-1"), headers=key)
    again = service.post(body("locked", "l-1"), headers=key)
    assert (stored.status_code, again.status_code) == (201, 201)
    assert again.content == stored.content
    assert [event["eventId"] for event in service.events() if event["eventType"] == "locked"] == ["l-1"]
