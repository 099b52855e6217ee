"""Windows longer than memcached's 30-day limit on relative expiry, against a real memcached."""

from __future__ import annotations

import pytest

from tests.system.idempotency.test_retries import body

pytestmark = pytest.mark.system

THIRTY_ONE_DAYS = str(31 * 86400)


def test_an_idempotency_window_over_thirty_days_keeps_keys_and_ids_in_memcached(start_service, memcached):
    service = start_service(rate_limit_storage=memcached.uri, idempotency_seconds=THIRTY_ONE_DAYS, dedupe="event")
    key = {"Idempotency-Key": "order-31-days"}
    first = service.post(body("long", "k-1"), headers=key)
    copies = [service.post(body("long", "k-1"), headers=key) for _ in range(2)]
    assert [copy.content for copy in copies] == [first.content] * 2
    for _ in range(3):
        assert service.post(body("long", "e-1")).status_code == 201
    assert sorted(event["eventId"] for event in service.events()) == ["e-1", "k-1"]
