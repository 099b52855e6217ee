"""The fixed-window memcached storage against a real memcached."""

from __future__ import annotations

import time

import pytest
from limits import parse
from limits.strategies import FixedWindowRateLimiter

from collector.ratelimit.storage import SCHEME, CollectorMemcachedStorage

pytestmark = pytest.mark.system

LIMIT = parse("5 per hour")


@pytest.fixture
def storage_for():
    """storage_for(memcached): a storage as a worker has it; its connections closed after."""
    storages = []

    def make(memcached) -> CollectorMemcachedStorage:
        storages.append(CollectorMemcachedStorage(f"{SCHEME}://127.0.0.1:{memcached.port}"))
        return storages[-1]

    yield make
    for storage in storages:
        storage.storage.close()


def test_the_reset_time_a_worker_sets_for_a_new_window_is_the_one_others_see(memcached, storage_for):
    storage = storage_for(memcached)
    before = time.time()
    assert storage.incr("client-a", 3600) == 1
    other_worker = storage_for(memcached)  # nothing remembered
    assert before + 3600 <= other_worker.get_expiry("client-a") <= time.time() + 3600
    assert other_worker.incr("client-a", 3600) == 2


def test_after_the_first_request_a_request_costs_one_memcached_round_trip(memcached, storage_for):
    limiter = FixedWindowRateLimiter(storage_for(memcached))
    assert limiter.hit(LIMIT, "client-b")
    limiter.get_window_stats(LIMIT, "client-b")
    before = memcached.stats()
    for expected_remaining in (3, 2, 1, 0):
        assert limiter.hit(LIMIT, "client-b")
        stats = limiter.get_window_stats(LIMIT, "client-b")
        assert stats.remaining == expected_remaining
    assert not limiter.hit(LIMIT, "client-b")
    after = memcached.stats()
    assert int(after["cmd_get"]) - int(before["cmd_get"]) == 0
    assert int(after["incr_hits"]) - int(before["incr_hits"]) == 5


def test_a_restarted_memcached_starts_a_new_window_with_a_new_reset_time(memcached, storage_for):
    storage = storage_for(memcached)
    storage.incr("client-c", 60)
    first_reset = storage.get_expiry("client-c")
    memcached.stop()
    memcached.start()
    time.sleep(1.1)  # a reset time one whole second later: memcached's resolution
    if storage.incr("client-c", 60) == 0:
        # The pooled connection from before the restart is gone: that request was admitted unchecked.
        assert storage.outage.request_unchecked()
        storage.incr("client-c", 60)
    assert storage.get_expiry("client-c") > first_reset + 1
