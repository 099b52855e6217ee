"""sqlite:// limits: one file that every worker of a VM counts in, exactly, without a server."""

from __future__ import annotations

import multiprocessing
import sqlite3

import pytest
from limits import parse
from limits.strategies import FixedWindowRateLimiter

from collector.errors import CollectorError
from collector.ratelimit import sqlite_storage
from collector.ratelimit.outage import StorageOutage
from collector.ratelimit.sqlite_storage import FILE_NAME, CollectorSQLiteStorage


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(sqlite_storage, "time", clock)
    return clock


def storage_in(directory, **options) -> CollectorSQLiteStorage:
    return CollectorSQLiteStorage("collector+sqlite://", path=str(directory / FILE_NAME), **options)


def test_a_window_counts_hits_until_it_expires_then_starts_afresh(tmp_path, clock):
    storage = storage_in(tmp_path)
    assert [storage.incr("k", 60) for _ in range(3)] == [1, 2, 3]
    assert storage.incr("k", 60, amount=5) == 8
    assert storage.get_expiry("k") == clock.now + 60
    clock.now += 59.9
    assert storage.incr("k", 60) == 9
    clock.now += 0.1  # the window's reset time: a new window, with a new reset time
    assert storage.incr("k", 60) == 1
    assert storage.get_expiry("k") == clock.now + 60
    assert storage.incr("other", 60) == 1
    storage.close()


def test_the_workers_of_a_vm_share_one_count(tmp_path, clock):
    first, second = storage_in(tmp_path), storage_in(tmp_path)
    assert first.incr("k", 60) == 1
    assert second.incr("k", 60) == 2
    # The headers of a request tell the count its own hit was given...
    assert (first.get("k"), first.get_expiry("k")) == (1, clock.now + 60)
    # ...and any later read asks the file: what the other worker counted shows.
    assert first.get("k") == 2 and first.get_expiry("k") == clock.now + 60
    assert second.get("k") == 2 and second.get_expiry("k") == clock.now + 60
    first.close()
    second.close()


def _hit(path: str, times: int, queue) -> None:
    storage = CollectorSQLiteStorage("collector+sqlite://", path=path, timeout=30)
    queue.put([storage.incr("race", 3600) for _ in range(times)])
    storage.close()


def test_racing_processes_each_get_a_count_of_their_own(tmp_path):
    # Four worker processes at once: every count from 1 to 800 is answered
    # exactly once, so exactly `limit` requests see a count within the limit.
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    workers = [context.Process(target=_hit, args=(str(tmp_path / FILE_NAME), 200, queue)) for _ in range(4)]
    for worker in workers:
        worker.start()
    counts = [count for _ in workers for count in queue.get(timeout=60)]
    for worker in workers:
        worker.join(30)
    assert sorted(counts) == list(range(1, 801))


def test_the_fixed_window_strategy_admits_exactly_the_limit(tmp_path, clock):
    limiter = FixedWindowRateLimiter(storage_in(tmp_path))
    limit = parse("3 per minute")
    assert [limiter.hit(limit, "client") for _ in range(5)] == [True, True, True, False, False]
    stats = limiter.get_window_stats(limit, "client")
    assert stats.remaining == 0 and stats.reset_time == clock.now + 60


def test_a_refused_request_is_given_back_never_below_zero(tmp_path, clock):
    storage = storage_in(tmp_path)
    storage.incr("k", 60, amount=10)
    assert storage.decr("k", 4) == 6
    assert storage.decr("k", 100) == 0
    assert storage.decr("never-counted", 1) == 0
    assert storage.get("k") == 0


def test_a_deleted_file_resets_the_limits_and_a_new_one_is_counted_in(tmp_path, clock):
    storage = storage_in(tmp_path)
    assert [storage.incr("k", 60) for _ in range(2)] == [1, 2]
    for leftover in tmp_path.glob(FILE_NAME + "*"):
        leftover.unlink()
    assert storage.incr("k", 60) == 1
    assert (tmp_path / FILE_NAME).exists()
    assert storage_in(tmp_path).incr("k", 60) == 2, "the other workers count in the new file too"


def test_clear_and_reset(tmp_path, clock):
    storage = storage_in(tmp_path)
    storage.incr("a", 60)
    storage.incr("b", 60)
    storage.clear("a")
    assert (storage.get("a"), storage.get("b")) == (0, 1)
    assert storage.reset() == 1
    assert storage.get("b") == 0 and storage.check()


def test_expired_windows_are_pruned_as_it_goes(tmp_path, clock, monkeypatch):
    monkeypatch.setattr(sqlite_storage, "_PRUNE_EVERY", 10)
    storage = storage_in(tmp_path)
    for client in range(9):
        storage.incr(f"client-{client}", 60)
    clock.now += 61
    storage.incr("late", 60)  # the tenth hit prunes the nine expired windows
    with sqlite3.connect(tmp_path / FILE_NAME) as db:
        assert db.execute("SELECT key FROM windows").fetchall() == [("late",)]


@pytest.mark.parametrize("policy", ["open", "closed"])
def test_a_file_locked_past_the_timeout_goes_to_the_outage_policy(tmp_path, clock, policy):
    storage = storage_in(tmp_path, timeout=0.05, outage=StorageOutage("sqlite://", policy))
    assert storage.incr("k", 60) == 1
    holder = sqlite3.connect(tmp_path / FILE_NAME, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        storage.outage.begin_request()
        if policy == "open":
            assert storage.incr("k", 60) == 0, "admitted, unchecked"
            assert storage.outage.request_unchecked()
        else:
            with pytest.raises(CollectorError):
                storage.incr("k", 60)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    storage.outage.begin_request()
    assert storage.incr("k", 60) == 2 and not storage.outage.request_unchecked()
