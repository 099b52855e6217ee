"""The console's index: counts equal to what is on disk, read once, whatever the files went through."""

from __future__ import annotations

import gzip
import os
from collections import Counter
from pathlib import Path

import orjson
import pytest

from collector.console.index import StoreIndex
from collector.ingest.eventtime import format_time

NOW = 1_796_000_000.0  # 2026-11-30


class Clock:
    now = NOW

    def __call__(self) -> float:
        return self.now


def line(event_type: str, at: float, n: int) -> bytes:
    return orjson.dumps(
        {"eventType": event_type, "eventId": f"e-{n}", "pingId": f"p-{n}", "receivedAt": format_time(at),
         "client": {"ip": "203.0.113.7", "userAgent": "t"}}
    ) + b"\n"


def name(worker: int, sequence: int) -> str:
    return f"events-20261130T000000.000000Z-vm-{1000 + worker}-{sequence:06d}"


def expected_series(lines: list[bytes], minutes: int, step: int, now: float) -> dict[str, list[list[int]]]:
    last = int(now // step) * step
    first = last - (minutes * 60 // step - 1) * step
    counts: dict[str, Counter] = {}
    for raw in lines:
        event = orjson.loads(raw)
        at = int(_epoch(event["receivedAt"]))
        bucket = at // step * step
        if first <= bucket <= last:
            counts.setdefault(event["eventType"], Counter())[bucket] += 1
    return {t: [[b, c.get(b, 0)] for b in range(first, last + step, step)] for t, c in sorted(counts.items())}


def _epoch(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@pytest.fixture
def store(tmp_path) -> Path:
    return tmp_path


def test_counts_per_minute_per_type_equal_the_store_through_rotation_and_compression(store):
    clock = Clock()
    written: list[bytes] = []

    def write(path: Path, lines: list[bytes], mode: str = "ab") -> None:
        with open(path, mode) as out:
            out.write(b"".join(lines))
        written.extend(lines)

    # A finished file, a compressed one, and two workers' open files.
    write(store / (name(1, 1) + ".jsonl"), [line("view", NOW - 3000 + i * 7, i) for i in range(300)])
    old = [line("buy", NOW - 80_000 + i * 60, 1000 + i) for i in range(200)]
    with gzip.open(store / (name(2, 1) + ".jsonl.gz"), "wb") as out:
        out.write(b"".join(old))
    written.extend(old)
    open_a, open_b = store / (name(1, 2) + ".jsonl.open"), store / (name(2, 2) + ".jsonl.open")
    write(open_a, [line("view", NOW - 100 + i, 2000 + i) for i in range(50)])
    write(open_b, [line("signup", NOW - 200 + i, 3000 + i) for i in range(20)])

    index = StoreIndex(store, clock=clock)
    index.refresh(force=True)
    assert index.series(60, 60) == expected_series(written, 60, 60, NOW)
    assert index.series(10080, 3600) == expected_series(written, 10080, 3600, NOW)

    # A line being written (no newline yet) is not read until it is whole.
    write(open_a, [line("view", NOW - 5, 4000)])
    with open(open_a, "ab") as out:
        partial = line("view", NOW - 4, 4001)
        out.write(partial[:30])
    index.refresh(force=True)
    assert index.series(60, 60) == expected_series(written, 60, 60, NOW)
    with open(open_a, "ab") as out:
        out.write(partial[30:])
    written.append(partial)
    index.refresh(force=True)
    assert index.series(60, 60) == expected_series(written, 60, 60, NOW)

    # The worker finishes its file, then it is compressed: the same lines, never counted again.
    finished = open_a.with_name(open_a.name[: -len(".open")])
    os.rename(open_a, finished)
    index.refresh(force=True)
    with open(finished, "rb") as source, gzip.open(str(finished) + ".gz", "wb") as out:
        out.write(source.read())
    finished.unlink()
    index.refresh(force=True)
    assert index.series(60, 60) == expected_series(written, 60, 60, NOW)

    # A console started now reads each file once, compressed or not: the same counts.
    fresh = StoreIndex(store, clock=clock)
    fresh.refresh(force=True)
    assert fresh.series(10080, 3600) == index.series(10080, 3600) == expected_series(written, 10080, 3600, NOW)


def test_a_refresh_reads_only_what_was_added(store, monkeypatch):
    path = store / (name(1, 1) + ".jsonl.open")
    path.write_bytes(b"".join(line("view", NOW - i, i) for i in range(100)))
    index = StoreIndex(store, clock=Clock())
    index.refresh(force=True)
    reads: list[int] = []
    real_open = open

    def counting_open(file, mode="r", *args, **kwargs):
        handle = real_open(file, mode, *args, **kwargs)
        original = handle.read
        handle.read = lambda *a: (lambda data: (reads.append(len(data)), data)[1])(original(*a))
        return handle

    monkeypatch.setattr("builtins.open", counting_open)
    with real_open(path, "ab") as out:
        added = line("view", NOW, 100)
        out.write(added)
    index.refresh(force=True)
    assert reads == [len(added)]


def test_newest_events_first_filtered_by_type_and_by_ping_or_event_id(store):
    path = store / (name(1, 1) + ".jsonl.open")
    path.write_bytes(b"".join(line("view" if i % 2 else "buy", NOW - 100 + i, i) for i in range(10)))
    index = StoreIndex(store, clock=Clock())
    index.refresh(force=True)
    assert [e.event_id for e in index.newest(3)] == ["e-9", "e-8", "e-7"]
    assert [e.event_id for e in index.newest(3, event_type="buy")] == ["e-8", "e-6", "e-4"]
    assert [e.event_id for e in index.newest(10, query="p-3")] == ["e-3"]
    assert [e.event_id for e in index.newest(10, query="e-4")] == ["e-4"]
    assert index.newest(10, event_type="buy", query="e-3") == []


def test_a_damaged_line_is_counted_as_unreadable_and_the_rest_read(store):
    path = store / (name(1, 1) + ".jsonl")
    path.write_bytes(line("view", NOW, 1) + b"{not json\n" + line("view", NOW, 2))
    index = StoreIndex(store, clock=Clock())
    index.refresh(force=True)
    assert index.unreadable_lines == 1
    assert len(index.newest(10)) == 2
