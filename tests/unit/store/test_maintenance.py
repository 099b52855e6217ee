"""Compression and retention of finished files, on real files in tmp_path."""

from __future__ import annotations

import fcntl
import gzip
import os
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from collector.store import datafiles
from collector.store.maintenance import FileFacts, Maintenance, compress_file, expired
from tests.processes import wait_until

DAY = 86400.0


def facts(sizes_and_ages, now=1_000_000_000.0):
    return [
        FileFacts(Path(f"events-{n:03d}.jsonl"), size, now - age * DAY) for n, (size, age) in enumerate(sizes_and_ages)
    ]


def test_retention_by_age_deletes_only_files_last_written_before_the_limit():
    files = facts([(10, 5), (10, 2.5), (10, 1.5), (10, 0.1)])
    assert [f.path.name for f in expired(files, 1_000_000_000.0, days=2, max_bytes=None)] == [
        "events-000.jsonl",
        "events-001.jsonl",
    ]


def test_retention_by_size_deletes_the_oldest_until_under_the_limit_and_no_more():
    files = facts([(100, 0), (100, 0), (100, 0), (100, 0)])
    assert [f.path.name for f in expired(files, 1_000_000_000.0, days=None, max_bytes=250)] == [
        "events-000.jsonl",
        "events-001.jsonl",
    ]
    assert expired(files, 1_000_000_000.0, days=None, max_bytes=400) == []


def test_retention_by_age_and_size_counts_only_what_age_left():
    files = facts([(100, 9), (100, 0), (100, 0), (100, 0)])
    doomed = expired(files, 1_000_000_000.0, days=1, max_bytes=200)
    assert [f.path.name for f in doomed] == ["events-000.jsonl", "events-001.jsonl"]


def finished_file(data_dir, name="events-20261126T050000.000000Z-h-1-000001.jsonl", content=b'{"a":1}\n' * 1000):
    path = data_dir / name
    path.write_bytes(content)
    os.utime(path, (1_700_000_000, 1_700_000_000))
    return path


def test_compressed_file_has_the_same_content_and_time_and_replaces_the_original(tmp_path):
    path = finished_file(tmp_path)
    target = compress_file(path)
    assert target.name == path.name + ".gz"
    assert gzip.decompress(target.read_bytes()) == b'{"a":1}\n' * 1000
    assert target.stat().st_mtime == 1_700_000_000
    assert not path.exists()
    assert [p.name for p in tmp_path.iterdir()] == [target.name], "no temporary file left"


def test_original_is_kept_when_the_compressed_file_cannot_be_put_in_place(tmp_path):
    path = finished_file(tmp_path)
    (tmp_path / (path.name + ".gz")).mkdir()  # the final name is taken: the rename fails
    with pytest.raises(OSError):
        compress_file(path)
    assert path.read_bytes() == b'{"a":1}\n' * 1000
    assert not list(tmp_path.glob(".*")), "the temporary file is removed"


def test_a_pass_compresses_finished_files_only_and_cleans_up_after_a_crash(tmp_path):
    done = finished_file(tmp_path)
    open_file = tmp_path / "events-20261126T060000.000000Z-h-1-000002.jsonl.open"
    open_file.write_bytes(b'{"a":2}\n')
    # A crash after the rename of a verified .gz, before the original was removed:
    twin = finished_file(tmp_path, "events-20261126T040000.000000Z-h-1-000000.jsonl")
    twin.with_name(twin.name + ".gz").write_bytes(gzip.compress(twin.read_bytes()))
    # A crash while writing a .gz:
    stale = tmp_path / (".events-20261126T030000.000000Z-h-1-000009.jsonl" + ".gz.tmp")
    stale.write_bytes(b"half")

    Maintenance(tmp_path, compress="gzip").run_once()

    assert sorted(p.name for p in tmp_path.glob("events-*")) == sorted(
        [twin.name + ".gz", done.name + ".gz", open_file.name]
    )
    assert not stale.exists()


def test_retention_pass_never_deletes_open_files(tmp_path):
    old = finished_file(tmp_path)
    open_file = tmp_path / "events-20200101T000000.000000Z-h-1-000001.jsonl.open"
    open_file.write_bytes(b'{"a":2}\n')
    os.utime(open_file, (0, 0))
    Maintenance(tmp_path, retention_days=1, retention_bytes=1).run_once()
    assert not old.exists()
    assert open_file.exists()


def test_listing_prefers_a_verified_gz_over_its_original_still_being_removed(tmp_path):
    original = finished_file(tmp_path)
    original.with_name(original.name + ".gz").write_bytes(gzip.compress(original.read_bytes()))
    assert [p.name for p in datafiles.data_files(tmp_path)] == [original.name + ".gz"]



COUNTED = (
    "collector_files_compressed_total",
    "collector_retention_deleted_files_total",
    "collector_retention_deleted_bytes_total",
)


def counted() -> list[float]:
    """The maintenance counters now (prometheus_client's registry is per process: compare before and after)."""
    return [REGISTRY.get_sample_value(name) or 0.0 for name in COUNTED]


def test_compressions_and_retention_deletions_are_counted(tmp_path):
    finished_file(tmp_path, "events-20261126T040000.000000Z-h-1-000001.jsonl", content=b'{"a":1}\n' * 10)
    finished_file(tmp_path, "events-20261126T050000.000000Z-h-1-000002.jsonl")
    before = counted()
    Maintenance(tmp_path, compress="gzip").run_once()
    sizes = sum(path.stat().st_size for path in tmp_path.glob("events-*.jsonl.gz"))
    Maintenance(tmp_path, retention_days=1).run_once()
    assert list(tmp_path.glob("events-*")) == []
    assert [a - b for a, b in zip(counted(), before, strict=True)] == [2, 2, sizes]


def test_the_last_pass_at_stop_compresses_what_is_finished_once(tmp_path):
    done = finished_file(tmp_path)
    maintenance = Maintenance(tmp_path, compress="gzip")
    maintenance.run_before_exit()
    assert [p.name for p in tmp_path.glob("events-*")] == [done.name + ".gz"]
    again = finished_file(tmp_path, "events-20261126T070000.000000Z-h-1-000003.jsonl")
    maintenance.run_before_exit()  # atexit after gunicorn's worker_exit: nothing more
    assert again.exists()


def test_the_last_pass_at_stop_gives_up_after_its_budget_leaving_the_file_whole(tmp_path, caplog):
    done = finished_file(tmp_path)
    content = done.read_bytes()
    # Another worker's pass holds the turn for longer than the budget.
    fd = os.open(tmp_path / ".maintenance.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        Maintenance(tmp_path, compress="gzip").run_before_exit(budget=0.05)
        assert "the next start compresses the rest" in caplog.text
        assert done.read_bytes() == content
    finally:
        os.close(fd)
    # The pass goes on once it gets its turn (in a worker, the exit cuts it short, as a crash would).
    wait_until(lambda: not done.exists(), 30, "the pass to end")


def test_no_last_pass_without_compression(tmp_path):
    done = finished_file(tmp_path)
    Maintenance(tmp_path, retention_days=1).run_before_exit()
    assert done.exists()
