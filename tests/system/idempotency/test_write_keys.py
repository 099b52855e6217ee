"""Idempotency keys and event ids belong to the write key that sent them, against the real service."""

from __future__ import annotations

import pytest

from collector.ingest.keys import key_id
from tests.system.idempotency.test_retries import body
from tests.system.ingest.test_service import ping_id_of

pytestmark = pytest.mark.system

TENANT_A = "tenant-a-0123456789abcdef"
TENANT_B = "tenant-b-0123456789abcdef"


def settings_for(storage: str, memcached, **settings) -> dict:
    settings["api_keys"] = f"{TENANT_A},{TENANT_B}"
    if storage == "memcached":
        settings["rate_limit_storage"] = memcached.uri
    return settings


def post_as(service, write_key: str, request: dict, idempotency_key: str | None = None):
    headers = {"X-Collector-Key": write_key}
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    return service.post(request, headers=headers)


@pytest.mark.parametrize("storage", ["sqlite", "memcached"])
def test_an_idempotency_key_is_scoped_to_the_write_key_that_sent_it(start_service, memcached, storage):
    service = start_service(**settings_for(storage, memcached))
    first = post_as(service, TENANT_A, body("order", "a-1"), "order-1")
    # Tenant B cannot probe A's keys: another body under A's key is B's own request, not a 422.
    probe = post_as(service, TENANT_B, body("order", "b-1"), "order-1")
    assert (first.status_code, probe.status_code) == (201, 201), probe.content
    # Tenant B, with A's idempotency key and body: a request of its own, stored, with its own pingId.
    theirs = post_as(service, TENANT_A, body("order", "same"), "order-2")
    mine = post_as(service, TENANT_B, body("order", "same"), "order-2")
    assert (theirs.status_code, mine.status_code) == (201, 201)
    assert ping_id_of(mine) != ping_id_of(theirs)
    # Each key's retry still gets its very own 201, and stores nothing again.
    retry = post_as(service, TENANT_A, body("order", "a-1"), "order-1")
    assert (retry.status_code, retry.content) == (201, first.content)
    assert post_as(service, TENANT_B, body("order", "same"), "order-2").content == mine.content
    stored = sorted((event["client"]["keyId"], event["eventId"]) for event in service.events())
    assert stored == sorted([
        (key_id(TENANT_A), "a-1"), (key_id(TENANT_B), "b-1"), (key_id(TENANT_A), "same"), (key_id(TENANT_B), "same"),
    ])


@pytest.mark.parametrize("storage", ["sqlite", "memcached"])
def test_event_dedupe_is_scoped_to_the_write_key_that_sent_the_event(start_service, memcached, storage):
    service = start_service(**settings_for(storage, memcached, dedupe="event"))
    # A public page's key stores the id first; the back end's real event must not be dropped for it.
    assert post_as(service, TENANT_A, body("paid", "invoice-1001-paid")).status_code == 201
    assert post_as(service, TENANT_B, body("paid", "invoice-1001-paid")).status_code == 201
    # Within one key, dedupe still drops the retry.
    assert post_as(service, TENANT_B, body("paid", "invoice-1001-paid")).status_code == 201
    stored = sorted(event["client"]["keyId"] for event in service.events())
    assert stored == sorted([key_id(TENANT_A), key_id(TENANT_B)])
