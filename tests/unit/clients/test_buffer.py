"""clients/python/src/collector_client/buffer.py: the bounded queue's policy and when a batch is due."""

from __future__ import annotations

import logging
import threading

import pytest

from collector_client.buffer import Buffer, Limits


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(clock=None, **limits) -> Buffer:
    return Buffer(Limits(**limits), clock or Clock())


def test_when_full_the_newest_is_dropped_and_counted_and_the_queued_ones_kept():
    buffer = make(max_queue=3, batch_size=10)
    results = [buffer.put(f'{{"n":{n}}}'.encode()) for n in range(5)]
    assert results == [True, True, True, False, False]
    assert buffer.dropped == 2
    buffer.flush(timeout=0)
    assert buffer.take() == [b'{"n":0}', b'{"n":1}', b'{"n":2}']


def test_an_overflow_is_logged_once_when_it_starts_and_once_when_it_ends(caplog):
    caplog.set_level(logging.WARNING, logger="collector_client")
    buffer = make(max_queue=2, batch_size=1)
    for _ in range(2):
        assert buffer.put(b"{}")
    for _ in range(50):
        assert not buffer.put(b"{}")
    assert [record.getMessage() for record in caplog.records] == [
        "collector_client: queue full (2 events): dropping new events until it drains"
    ]
    assert buffer.take() == [b"{}"]  # the sender makes room
    assert buffer.put(b"{}")
    assert buffer.put(b"{}") is False  # a second episode
    assert [record.getMessage() for record in caplog.records] == [
        "collector_client: queue full (2 events): dropping new events until it drains",
        "collector_client: queue has room again; 50 events were dropped while it was full",
        "collector_client: queue full (2 events): dropping new events until it drains",
    ]
    assert buffer.dropped == 51


def test_a_batch_is_due_at_its_size():
    buffer = make(batch_size=3, flush_interval=60)
    buffer.put(b"1")
    buffer.put(b"2")
    assert buffer.take() == []
    buffer.put(b"3")
    buffer.put(b"4")
    assert buffer.take() == [b"1", b"2", b"3"]
    assert buffer.take() == []  # the fourth waits for more, or for its interval


def test_a_batch_is_due_flush_interval_after_its_oldest_event():
    clock = Clock()
    buffer = make(clock, batch_size=100, flush_interval=5)
    assert buffer.due_in() is None
    buffer.put(b"1")
    clock.now += 3
    buffer.put(b"2")
    assert buffer.due_in() == 2.0 and buffer.take() == []
    clock.now += 2
    assert buffer.take() == [b"1", b"2"]


def test_a_batch_stays_under_its_bytes_and_always_takes_one_event():
    buffer = make(batch_size=100, batch_bytes=10)
    for item in (b"aaaa", b"bbbb", b"cccc", b"d" * 30):
        buffer.put(item)
    buffer.close()  # closing makes everything due
    assert buffer.take() == [b"aaaa", b"bbbb"]  # 5 + 5 bytes with their commas
    assert buffer.take() == [b"cccc"]
    assert buffer.take() == [b"d" * 30]


def test_flush_makes_queued_events_due_and_waits_until_the_sender_is_done():
    buffer = make(batch_size=100, flush_interval=3600)
    buffer.put(b"1")
    buffer.put(b"2")

    def sender():
        batch = buffer.wait_for_batch()
        buffer.finished(len(batch))

    thread = threading.Thread(target=sender)
    thread.start()
    assert buffer.flush(timeout=30) is True
    thread.join(30)
    assert buffer.pending == 0


def test_flush_without_a_sender_says_it_did_not_finish():
    buffer = make()
    buffer.put(b"1")
    assert buffer.flush(timeout=0) is False


def test_once_closed_the_sender_drains_then_stops_and_nothing_more_is_taken():
    buffer = make(batch_size=2, flush_interval=3600)
    for item in (b"1", b"2", b"3"):
        buffer.put(item)
    buffer.close()
    assert buffer.wait_for_batch() == [b"1", b"2"]
    assert buffer.wait_for_batch() == [b"3"]
    assert buffer.wait_for_batch() is None
    with pytest.raises(RuntimeError):
        buffer.put(b"4")


@pytest.mark.parametrize("bad", [dict(max_queue=0), dict(batch_size=0), dict(batch_bytes=0), dict(flush_interval=0)])
def test_limits_that_cannot_work_are_refused(bad):
    with pytest.raises(ValueError):
        Limits(**bad)
