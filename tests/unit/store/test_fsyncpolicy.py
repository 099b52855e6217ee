"""collector/store/fsyncpolicy.py: COLLECTOR_FSYNC's modes, and a failed fsync that is never retried."""

import errno
import os

import pytest

from collector.errors import CollectorError
from collector.store.fsyncpolicy import FsyncPolicy
from collector.store.writer import EventWriter
from tests.unit.store.writing import line, sample


def test_a_failed_fsync_is_counted(make_writer, tmp_path, monkeypatch):
    writer = EventWriter(tmp_path / "data", rotate_bytes=1 << 20, rotate_seconds=3600, host_name="h", fsync="always")
    before = sample("collector_fsync_failures_total")

    def failing_fsync(fd):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(CollectorError):
        writer.append([line(1)])
    assert sample("collector_fsync_failures_total") - before == 1
    monkeypatch.undo()
    writer.close()


def test_a_failed_fsync_at_a_clean_stop_leaves_the_file_for_recovery_without_raising(tmp_path, monkeypatch):
    # Another worker's disk failure found only at shutdown (two workers, one
    # failing disk): the stop must not end in a traceback, and the file stays
    # `.open` for the next start's recovery, which checks it.
    writer = EventWriter(tmp_path / "data", rotate_bytes=1 << 20, rotate_seconds=3600, host_name="h", fsync="interval")
    writer.append([line(1)])

    def failing_fsync(fd):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    writer.close()
    assert [path.name.endswith(".jsonl.open") for path in (tmp_path / "data").iterdir() if path.is_file()] == [True]


def test_an_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="fsync must be one of"):
        FsyncPolicy("sometimes")


@pytest.mark.parametrize(
    "mode, every_write, timed, syncs_files",
    [("always", True, False, True), ("interval", False, True, True), ("never", False, False, False)],
)
def test_each_mode_says_when_data_is_synced(mode, every_write, timed, syncs_files):
    policy = FsyncPolicy(mode, 0.5)
    assert (policy.every_write, policy.timed, policy.syncs_files) == (every_write, timed, syncs_files)


def test_a_failed_fsync_is_never_retried_and_the_writer_refuses_from_then_on(tmp_path, monkeypatch):
    writer = EventWriter(tmp_path / "data", rotate_bytes=1 << 20, rotate_seconds=3600, host_name="h", fsync="always")
    calls = []

    def failing_fsync(fd):
        calls.append(fd)
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(CollectorError):
        writer.append([line(1)])
    assert writer.broken and len(calls) == 1
    with pytest.raises(CollectorError) as caught:
        writer.append([line(2)])
    refused = (caught.value.status, caught.value.message)
    assert refused == (503, "this worker cannot store events any more; please retry")
    assert len(calls) == 1  # not even tried again: the kernel may have dropped the pages it failed to write
    monkeypatch.undo()
    writer.close()
