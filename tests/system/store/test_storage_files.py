"""Files under load: a full disk, files moved or deleted from outside, rotation, compression, retention."""

from __future__ import annotations

import fcntl
import gzip
import os
import threading
import time

import pytest

from collector.store import datafiles
from tests.servers import read_events, wait_until
from tests.system.store.faults import Load, assert_acknowledged_stored_once, collector_command, tmpfs

pytestmark = pytest.mark.system


def test_full_disk_under_load_gets_503_without_partial_lines_then_201_once_freed(start_service, tmp_path):
    with tmpfs(tmp_path / "tiny", "1m") as data_dir:
        filler = data_dir / "filler.bin"
        filler.write_bytes(b"\0" * 700_000)
        # One worker: the one that meets the full disk is the one that must say it recovered.
        service = start_service(data_dir=data_dir, rate_limit="1000000/hour", workers="1")
        try:
            with Load(service.url, clients=4, events=10, pad=2000) as load:
                load.wait_for(5, status=503)
            assert load.retry_after == {"5"}
            stored = assert_acknowledged_stored_once(load.acknowledged, data_dir)  # whole lines only
            assert len(stored) == len(load.acknowledged), "a refused request left events behind"

            filler.unlink()
            assert service.post({"messageBody": [{"eventType": "after", "eventId": "after"}]}).status_code == 201
            assert "storage recovered" in service.log()
            assert service.log().count("cannot store events") <= load.statuses[503]
        finally:
            service.stop()
        assert_acknowledged_stored_once([*load.acknowledged, "after"], data_dir)


def vandalise(data_dir, moved_dir, action, stop):
    """Delete or move the open files away, as an operator or a careless logrotate might."""
    moved = 0
    while not stop.wait(0.05):
        for path in data_dir.glob("events-*" + datafiles.OPEN_SUFFIX):
            try:
                if action == "delete":
                    path.unlink()
                else:
                    path.rename(moved_dir / path.name)
                moved += 1
            except FileNotFoundError:
                pass  # finished meanwhile
    return moved


@pytest.mark.parametrize("action", ["delete", "rename"])
def test_open_file_deleted_or_moved_away_under_load_loses_no_acknowledged_event(start_service, tmp_path, action):
    moved_dir = tmp_path / "moved"
    moved_dir.mkdir()
    service = start_service(rate_limit="1000000/hour")
    stop = threading.Event()
    result = []
    vandal = threading.Thread(target=lambda: result.append(vandalise(service.data_dir, moved_dir, action, stop)))
    with Load(service.url, clients=6, pad=200) as load:
        load.wait_for(50)
        vandal.start()
        wait_until(
            lambda: stop.is_set() or len(list(moved_dir.iterdir())) >= 5 or service.log().count("was deleted") >= 5,
            20,
            "files to be vandalised",
        )
        stop.set()
        vandal.join()
        served = load.statuses[201]
        load.wait_for(served + 50)
    assert result[0] >= 5
    assert load.statuses[503] == 0 and load.statuses["error"] == 0
    service.stop()
    assert_acknowledged_stored_once(load.acknowledged, service.data_dir, moved_dir)


@pytest.mark.parametrize("compress", ["none", "gzip"])
def test_rotation_by_size_and_time_under_concurrent_writers_keeps_every_event_once(start_service, memcached, compress):
    rotate_bytes = 30000
    service = start_service(
        rate_limit_storage=memcached.uri, rate_limit="1000000/hour", workers="2",
        rotate_bytes=str(rotate_bytes), rotate_seconds="1", compress=compress,
    )
    with Load(service.url, clients=6, pad=100) as load:
        load.wait_for(400)
    # No event comes any more: rotation by time finishes the open files by itself.
    wait_until(lambda: not list(service.data_dir.glob("events-*.open")), 20, "idle files to be finished")
    if compress == "gzip":
        wait_until(
            lambda: not list(service.data_dir.glob("events-*.jsonl")), 20, "every finished file to be compressed"
        )
    finished = datafiles.data_files(service.data_dir)
    assert len(finished) >= 10
    for path in finished:
        assert path.name.endswith(".jsonl.gz" if compress == "gzip" else ".jsonl")
        size = len(gzip.decompress(path.read_bytes())) if compress == "gzip" else path.stat().st_size
        assert size <= rotate_bytes, f"{path.name} was not rotated by size"
    assert not list(service.data_dir.glob(".*.tmp")), "a temporary compressed file was left behind"
    assert_acknowledged_stored_once(load.acknowledged, service.data_dir)
    assert collector_command("events", "verify", "--data-dir", str(service.data_dir)).returncode == 0


def write_old_file(data_dir, index, size, age_days):
    """A finished file of `size` bytes whose last event is `age_days` old."""
    written = time.time() - age_days * 86400
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(written)) + f".{index:06d}Z"
    path = data_dir / f"events-{stamp}-otherhost-1-{index:06d}.jsonl"
    line = b'{"eventType":"old","receivedAt":"2026-01-01T00:00:00.000Z","properties":{"pad":"'
    path.write_bytes(line + b"x" * (size - len(line) - 4) + b'"}}\n')
    os.utime(path, (written, written))
    return path


def test_retention_deletes_only_the_oldest_finished_files_never_an_open_one(start_service, tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    # 10 files three days old, then 50 recent ones, 1000 bytes each, oldest first.
    files = [write_old_file(data_dir, n, 1000, 3 if n < 10 else 0.01) for n in range(60)]
    # A file another live writer holds (old, but open): never retention's business.
    held = data_dir / "events-20200101T000000.000000Z-otherhost-2-000001.jsonl.open"
    held.write_bytes(b'{"eventType":"live","receivedAt":"2020-01-01T00:00:00.000Z"}\n')
    os.utime(held, (0, 0))
    with open(held, "rb") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        service = start_service(data_dir=data_dir, retention_days="1", retention_bytes="30000")
        # 10 too old; of the 50 others (50000 bytes), the 20 oldest go to get down to 30000.
        wait_until(lambda: service.log().count("retention: deleted") >= 30, 20, "retention at start-up")
        assert service.post({"messageBody": [{"eventType": "new", "eventId": "new"}]}).status_code == 201
        kept = sorted(p for p in data_dir.glob("events-*.jsonl"))
        assert kept == files[30:]
        assert held.exists()
        assert service.log().count("retention: deleted") == 30
        for path in files[:30]:
            assert f"retention: deleted {path.name}" in service.log()
        assert [e["eventId"] for e in read_events(data_dir) if e["eventType"] == "new"] == ["new"]


def test_files_finished_as_the_service_stops_are_compressed_before_it_exits(start_service):
    # docs/scaling-out.md's shipping recipe takes `*.jsonl.gz` only: a stopped instance's last files must be there.
    service = start_service(compress="gzip", workers="2", rate_limit="1000000/hour")
    with Load(service.url, clients=4, pad=100) as load:
        load.wait_for(100)
    assert service.stop() == 0
    names = [path.name for path in service.data_dir.iterdir() if path.name.startswith("events-")]
    assert names and all(name.endswith(".jsonl.gz") for name in names), names
    assert not list(service.data_dir.glob(".*" + ".tmp"))
    assert_acknowledged_stored_once(load.acknowledged, service.data_dir)
    assert "compressed" in service.log()
