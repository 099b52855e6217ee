"""The console's index: counts equal to what is on disk, read once, whatever the files went through."""

from __future__ import annotations

import gc
import gzip
import os
import tracemalloc
from collections import Counter
from pathlib import Path

import orjson
import pytest

from collector.console.index import HOUR_BUCKETS, MINUTE_BUCKETS, RECENT_BYTES, StoreIndex
from collector.ingest.eventtime import format_time
from collector.ops.instrument import MAX_EVENT_TYPES, OTHER

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
        for method in ("read", "readline"):
            original = getattr(handle, method)
            setattr(
                handle,
                method,
                lambda *a, original=original: (lambda data: (reads.append(len(data)), data)[1])(original(*a)),
            )
        return handle

    monkeypatch.setattr("builtins.open", counting_open)
    with real_open(path, "ab") as out:
        added = line("view", NOW, 100)
        out.write(added)
    index.refresh(force=True)
    assert sum(reads) == len(added)


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


def test_an_erasure_bumping_the_generation_makes_the_index_read_the_store_again(store):
    from collector.store import generation

    path = store / (name(1, 1) + ".jsonl")
    path.write_bytes(b"".join(line("view", NOW - 100 + i, i) for i in range(4)))
    index = StoreIndex(store, clock=Clock())
    index.refresh(force=True)
    assert len(index.newest(10)) == 4
    # Rewritten under the same name (finished: read once, never again) without two of its events.
    path.write_bytes(line("view", NOW - 100, 0) + line("view", NOW - 97, 3))
    generation.bump(store)
    index.refresh(force=True)
    assert [e.event_id for e in index.newest(10)] == ["e-3", "e-0"]
    assert index.top_types(24 * 60) == [("view", 2)]


def test_a_damaged_line_is_counted_as_unreadable_and_the_rest_read(store):
    path = store / (name(1, 1) + ".jsonl")
    path.write_bytes(line("view", NOW, 1) + b"{not json\n" + line("view", NOW, 2))
    index = StoreIndex(store, clock=Clock())
    index.refresh(force=True)
    assert index.unreadable_lines == 1
    assert len(index.newest(10)) == 2


def big_line(n: int, at: float, size: int) -> bytes:
    return orjson.dumps(
        {"eventType": "view", "eventId": f"e-{n}", "pingId": f"p-{n}", "receivedAt": format_time(at),
         "properties": {"blob": "x" * size}}
    ) + b"\n"


def test_recent_events_of_32_kib_stay_within_the_byte_budget_newest_kept(store):
    # 2,000 events of 32 KiB are 64 MiB of lines: more than the budget, far fewer than RECENT_EVENTS.
    with open(store / (name(1, 1) + ".jsonl"), "wb") as out:
        for n in range(2000):
            out.write(big_line(n, NOW - 2000 + n, 32 * 1024))
    index = StoreIndex(store, clock=Clock())
    gc.collect()
    tracemalloc.start()
    try:
        index.refresh(force=True)
        gc.collect()
        held, _ = tracemalloc.get_traced_memory()  # what the index kept, as Python allocated it
    finally:
        tracemalloc.stop()
    kept = index.newest(10**9)
    assert 0 < len(kept) < 2000
    assert sum(len(event.line) for event in kept) <= index.recent_bytes <= RECENT_BYTES
    assert held <= RECENT_BYTES + (1 << 20)
    assert kept[0].event_id == "e-1999"  # the newest are those kept
    assert [event.event_id for event in kept] == [f"e-{n}" for n in range(1999, 1999 - len(kept), -1)]


def test_an_event_larger_than_the_whole_budget_is_counted_not_kept(store, monkeypatch):
    monkeypatch.setattr("collector.console.index.RECENT_BYTES", 64 * 1024)
    (store / (name(1, 1) + ".jsonl")).write_bytes(line("view", NOW - 2, 1) + big_line(2, NOW - 1, 100_000))
    index = StoreIndex(store, clock=Clock())
    index.refresh(force=True)
    assert [event.event_id for event in index.newest(10)] == ["e-1"]
    assert index.recent_bytes <= 64 * 1024
    assert index.top_types(60) == [("view", 2)]


def test_series_name_at_most_max_event_types_and_count_the_rest_as_other(store):
    # 5,000 types in the last hour: the answer names MAX_EVENT_TYPES of them, as /metrics does.
    (store / (name(1, 1) + ".jsonl")).write_bytes(
        b"".join(line(f"type-{n}", NOW - 3000 + n % 2900, n) for n in range(5000))
    )
    index = StoreIndex(store, clock=Clock())
    index.refresh(force=True)
    series = index.series(60, 60)
    assert len(series) == MAX_EVENT_TYPES + 1
    assert sum(count for _, count in series[OTHER]) == 5000 - MAX_EVENT_TYPES
    assert sum(count for points in series.values() for _, count in points) == 5000
    assert len(index.top_types(60, limit=10**6)) <= MAX_EVENT_TYPES + 1


def test_with_an_allow_list_the_series_name_the_types_with_the_most_events(store):
    # 150 allowed types, those from 100 up with two events each: they are named first.
    allowed = frozenset(f"type-{n}" for n in range(150))
    lines = [line(f"type-{n}", NOW - 60, n) for n in range(150)] + [
        line(f"type-{n}", NOW - 60, n) for n in range(100, 150)
    ]
    (store / (name(1, 1) + ".jsonl")).write_bytes(b"".join(lines))
    index = StoreIndex(store, clock=Clock(), event_types=allowed)
    index.refresh(force=True)
    series = index.series(60, 60)
    assert len(series) == MAX_EVENT_TYPES + 1 and {f"type-{n}" for n in range(100, 150)} < set(series)
    assert total(series) == 200 and total({OTHER: series[OTHER]}) == 50


def test_a_week_of_counts_per_minute_by_many_types_stays_bounded(store):
    # An event of a new type every minute for 7 days: 10,080 (minute, type) counts without a bound.
    week = 7 * 24 * 60
    lines = [line(f"type-{n}", NOW - (week - n) * 60, n) for n in range(week)]
    (store / (name(1, 1) + ".jsonl")).write_bytes(b"".join(lines))
    index = StoreIndex(store, clock=Clock())
    index.refresh(force=True)
    assert index.counted_cells() <= (MINUTE_BUCKETS + HOUR_BUCKETS) * (MAX_EVENT_TYPES + 1)
    assert index.counted_cells() < 4000
    for minutes, step in ((10080, 3600), (1440, 60), (60, 60)):
        expected = expected_series(lines, minutes, step, NOW)
        answer = index.series(minutes, step)
        assert total(answer) == total(expected) > 0


def total(series: dict[str, list[list[int]]]) -> int:
    return sum(count for points in series.values() for _, count in points)


def bot_line(event_type: str, at: float, n: int, category: str = "crawler") -> bytes:
    bot = {"name": "Googlebot" if category == "crawler" else "WebDriver", "category": category}
    return orjson.dumps(
        {"eventType": event_type, "eventId": f"e-{n}", "pingId": f"p-{n}", "receivedAt": format_time(at),
         "client": {"ip": "66.249.66.1", "userAgent": "Googlebot/2.1", "bot": bot}}
    ) + b"\n"


@pytest.fixture
def mixed(store) -> StoreIndex:
    """Last hour: 3 views by people, 2 by bots; 1 signup by a driven browser."""
    lines = [line("view", NOW - 600 + n, n) for n in range(3)]
    lines += [bot_line("view", NOW - 300 + n, 10 + n) for n in range(2)]
    lines.append(bot_line("signup", NOW - 100, 20, "headless"))
    (store / (name(1, 1) + ".jsonl")).write_bytes(b"".join(lines))
    index = StoreIndex(store, clock=Clock())
    index.refresh(force=True)
    return index


def test_people_and_bots_are_counted_apart_with_the_bot_share_per_type(mixed):
    assert mixed.top_types(60) == [("view", 5), ("signup", 1)]
    assert mixed.bot_share(60) == [("view", 5, 2), ("signup", 1, 1)]


def test_bots_can_be_left_out_of_the_counts_or_counted_alone(mixed):
    assert mixed.top_types(60, bots="exclude") == [("view", 3)]
    assert mixed.top_types(60, bots="only") == [("view", 2), ("signup", 1)]
    assert total(mixed.series(60, 60, bots="exclude")) == 3
    assert total(mixed.series(60, 60, bots="only")) == 3
    assert total(mixed.series(10080, 3600, bots="exclude")) == 3
    assert set(mixed.series(60, 60, bots="exclude")) == {"view"}, "a type only bots sent is not drawn for people"


def test_the_newest_events_can_leave_bots_out_or_keep_only_them(mixed):
    assert [event.event_id for event in mixed.newest(10, bots="exclude")] == ["e-2", "e-1", "e-0"]
    assert [event.event_id for event in mixed.newest(10, bots="only")] == ["e-20", "e-11", "e-10"]
    assert [event.bot for event in mixed.newest(10)][:2] == ["headless", "crawler"]
