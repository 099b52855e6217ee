"""Asking the writers to finish their open files, with real EventWriters in this process."""

from __future__ import annotations

import fcntl
import os
import stat

import pytest

from collector.store import datafiles, finishing
from collector.store.writer import EventWriter
from tests.unit.store.writing import finished, line, stored


@pytest.fixture
def writers(tmp_path):
    """Writers of one data directory, as several workers are (each its own host name: one process here)."""
    made: list[EventWriter] = []

    def make(host: str, **options) -> EventWriter:
        options.setdefault("fsync_seconds", 3600.0)  # no background check unless a test wants one
        writer = EventWriter(
            tmp_path / "data", rotate_bytes=1 << 20, rotate_seconds=3600, host_name=host, fsync="never", **options
        )
        writer.start()
        made.append(writer)
        return writer

    yield make
    for writer in made:
        writer.close()


def test_writers_finish_their_files_at_their_next_check_and_start_new_ones(writers, tmp_path):
    data = tmp_path / "data"
    first, second = writers("a"), writers("b")
    first.append([line(1)])
    second.append([line(2)])
    before = finished("asked")
    files = finishing.open_files(data)
    assert sorted(path.name.split("-")[2] for path in files) == ["a", "b"]

    assert finishing.ask_workers_to_finish(data) == 1
    first.finish_if_asked()
    second.finish_if_asked()

    assert finishing.wait_for_finished(data, files, timeout=0)
    assert all(datafiles.finished_path(path).exists() for path in files)
    assert finished("asked") - before == 2
    assert finishing.open_files(data) == []
    first.append([line(3)])
    [new] = finishing.open_files(data)
    assert new not in files
    assert sorted(stored(data)) == [1, 2, 3]


def test_a_writer_finishes_once_per_request_not_at_every_check(writers, tmp_path):
    data = tmp_path / "data"
    writer = writers("a")
    writer.append([line(1)])
    finishing.ask_workers_to_finish(data)
    writer.finish_if_asked()
    writer.append([line(2)])
    writer.finish_if_asked()
    [still_open] = finishing.open_files(data)
    assert finishing.ask_workers_to_finish(data) == 2
    writer.finish_if_asked()
    assert finishing.wait_for_finished(data, [still_open], timeout=0)


def test_a_writer_started_after_the_request_keeps_its_file(writers, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    finishing.ask_workers_to_finish(data)
    writer = writers("late")
    writer.append([line(1)])
    writer.finish_if_asked()
    assert len(finishing.open_files(data)) == 1


def test_an_idle_writer_finishes_through_its_background_thread(writers, tmp_path):
    data = tmp_path / "data"
    writer = writers("idle", fsync_seconds=0.05)
    writer.append([line(1)])
    files = finishing.open_files(data)
    finishing.ask_workers_to_finish(data)
    assert finishing.wait_for_finished(data, files, timeout=60)
    assert stored(data) == [1]


def test_waiting_for_a_file_nobody_finishes_times_out(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    held = data / "events-20260101T000000.000000Z-deaf-7-000001.jsonl.open"
    held.write_bytes(line(1))
    with open(held, "rb") as live:
        fcntl.flock(live, fcntl.LOCK_EX)  # a live writer that never looks at the request
        assert finishing.open_files(data) == [held]
        finishing.ask_workers_to_finish(data)
        assert not finishing.wait_for_finished(data, [held], timeout=0.2)
    assert held.exists()


def test_with_no_service_running_a_crashed_services_files_are_finished_and_none_is_open(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    left = data / "events-20260101T000000.000000Z-gone-8-000001.jsonl.open"
    left.write_bytes(line(1) + b'{"torn')
    assert finishing.open_files(data) == []
    assert datafiles.finished_path(left).read_bytes() == line(1)
    assert (data / "quarantine" / (left.name + ".torn")).read_bytes() == b'{"torn'


def test_a_file_whose_writer_died_after_the_request_is_finished_by_the_wait(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    dying = data / "events-20260101T000000.000000Z-dying-9-000001.jsonl.open"
    dying.write_bytes(line(1))
    with open(dying, "rb") as live:
        fcntl.flock(live, fcntl.LOCK_EX)
        files = finishing.open_files(data)
        finishing.ask_workers_to_finish(data)
    # The lock is gone with its holder, as with a worker killed by SIGKILL.
    assert finishing.wait_for_finished(data, files, timeout=60)
    assert datafiles.finished_path(dying).read_bytes() == line(1)


def test_a_file_being_created_is_not_taken_for_an_orphan(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    # Between a writer's O_EXCL create and its flock the file is empty and unlocked.
    new = data / "events-20260101T000000.000000Z-new-10-000001.jsonl.open"
    new.touch()
    assert finishing.open_files(data) == []
    assert new.exists()


def test_asking_needs_the_data_directory(tmp_path):
    with pytest.raises(FileNotFoundError):
        finishing.ask_workers_to_finish(tmp_path / "missing")
    assert not (tmp_path / "missing").exists()


def test_the_request_is_readable_by_the_service_whatever_the_askers_umask(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    previous = os.umask(0o077)  # an operator's strict umask, the service another user
    try:
        finishing.ask_workers_to_finish(data)
    finally:
        os.umask(previous)
    assert stat.S_IMODE((data / finishing.REQUEST_NAME).stat().st_mode) == 0o644
    assert stat.S_IMODE((data / (finishing.REQUEST_NAME + ".lock")).stat().st_mode) == 0o644


def test_a_file_deleted_from_outside_is_salvaged_before_it_is_finished(writers, tmp_path):
    data = tmp_path / "data"
    writer = writers("a")
    writer.append([line(1)])
    [deleted] = finishing.open_files(data)
    deleted.unlink()  # an operator, a careless logrotate
    finishing.ask_workers_to_finish(data)
    writer.finish_if_asked()
    assert finishing.open_files(data) == []
    assert stored(data) == [1]


def test_a_writer_whose_data_directory_is_away_answers_once_it_is_back(writers, tmp_path):
    data, away = tmp_path / "data", tmp_path / "away"
    writer = writers("a")
    writer.append([line(1)])
    files = finishing.open_files(data)
    finishing.ask_workers_to_finish(data)
    data.rename(away)
    writer.finish_if_asked()  # the request is read from nowhere: nothing done, nothing created
    assert not data.exists()
    away.rename(data)
    writer.finish_if_asked()
    assert finishing.wait_for_finished(data, files, timeout=0)
    assert stored(data) == [1]
