"""The writer on real files in tmp_path: rotation, recovery, files changed from outside."""

import errno
import fcntl
import os
import shutil

import orjson
import pytest
from prometheus_client import REGISTRY

from collector.errors import CollectorError
from collector.store import datafiles
from collector.store.writer import EventWriter


class Clock:
    def __init__(self, now=1_795_669_000.0):
        self.now = now

    def __call__(self):
        return self.now


def line(n: int) -> bytes:
    return orjson.dumps({"eventType": "t", "n": n}) + b"\n"


def stored(data_dir) -> list[int]:
    return [orjson.loads(raw)["n"] for path in datafiles.data_files(data_dir) for raw in datafiles.iter_lines(path)]


@pytest.fixture
def make_writer(tmp_path):
    writers = []

    def make(**options):
        options.setdefault("rotate_bytes", 1 << 20)
        options.setdefault("rotate_seconds", 3600)
        writer = EventWriter(tmp_path / "data", host_name="testhost", fsync="never", **options)
        writers.append(writer)
        return writer

    yield make
    for writer in writers:
        writer.close()


def test_lines_go_to_an_open_file_that_close_finishes(make_writer, tmp_path):
    writer = make_writer()
    writer.append([line(1), line(2)])
    writer.append([line(3)])
    [open_file] = datafiles.data_files(tmp_path / "data")
    assert open_file.name.endswith(".jsonl.open")
    assert f"-testhost-{os.getpid()}-000001" in open_file.name
    writer.close()
    [finished] = datafiles.data_files(tmp_path / "data")
    assert finished == datafiles.finished_path(open_file)
    assert finished.read_bytes() == line(1) + line(2) + line(3)


def test_a_file_is_finished_before_it_would_pass_the_size_limit(make_writer, tmp_path):
    writer = make_writer(rotate_bytes=len(line(1)) * 3)
    for n in range(10):
        writer.append([line(n)])
    writer.close()
    files = datafiles.data_files(tmp_path / "data")
    assert [path.stat().st_size for path in files] == [len(line(1)) * 3] * 3 + [len(line(1))]
    assert stored(tmp_path / "data") == list(range(10))


def test_a_request_larger_than_the_size_limit_stays_whole(make_writer, tmp_path):
    writer = make_writer(rotate_bytes=10)
    writer.append([line(1), line(2), line(3)])
    writer.append([line(4)])
    writer.close()
    assert [len(list(datafiles.iter_lines(p))) for p in datafiles.data_files(tmp_path / "data")] == [3, 1]


def test_a_file_is_finished_after_its_age_even_without_requests(make_writer, tmp_path):
    clock = Clock()
    writer = make_writer(rotate_seconds=60, clock=clock)
    writer.append([line(1)])
    clock.now += 59
    writer.rotate_if_due()
    assert datafiles.data_files(tmp_path / "data")[0].name.endswith(".open")
    clock.now += 1
    writer.rotate_if_due()
    [finished] = datafiles.data_files(tmp_path / "data")
    assert finished.name.endswith(".jsonl")
    writer.append([line(2)])
    assert [p.suffix for p in datafiles.data_files(tmp_path / "data")] == [".jsonl", ".open"]


def test_a_file_moved_away_keeps_its_lines_and_a_new_file_starts(make_writer, tmp_path):
    writer = make_writer()
    writer.append([line(1)])
    [first] = datafiles.data_files(tmp_path / "data")
    moved = tmp_path / "moved.jsonl"
    first.rename(moved)
    writer.append([line(2)])
    assert moved.read_bytes() == line(1)
    assert stored(tmp_path / "data") == [2]


def test_a_file_deleted_while_open_is_copied_so_nothing_is_lost(make_writer, tmp_path):
    writer = make_writer()
    writer.append([line(1), line(2)])
    datafiles.data_files(tmp_path / "data")[0].unlink()
    writer.append([line(3)])
    assert stored(tmp_path / "data") == [1, 2, 3]


def test_storage_failure_is_503_and_recovers_by_itself(make_writer, tmp_path):
    data_dir = tmp_path / "data"
    data_dir.write_text("a file where the directory should be")
    writer = make_writer()
    with pytest.raises(CollectorError) as caught:
        writer.append([line(1)])
    assert (caught.value.code, caught.value.status) == ("storage_unavailable", 503)
    assert caught.value.message == "events could not be stored right now; nothing was kept, please retry"
    data_dir.unlink()
    writer.append([line(2)])
    assert stored(data_dir) == [2]


def test_an_abandoned_file_is_repaired_and_its_torn_line_quarantined(make_writer, tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    abandoned = data_dir / "events-20260101T000000.000000Z-otherhost-99-000001.jsonl.open"
    abandoned.write_bytes(line(1) + line(2) + b'{"eventType":"t","n":')
    writer = make_writer()
    writer.append([line(3)])
    finished = datafiles.finished_path(abandoned)
    assert finished.read_bytes() == line(1) + line(2)
    torn = data_dir / "quarantine" / (abandoned.name + ".torn")
    assert torn.read_bytes() == b'{"eventType":"t","n":'
    assert stored(data_dir) == [1, 2, 3]


def test_a_file_locked_by_a_live_writer_is_left_alone(make_writer, tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    live = data_dir / "events-20260101T000000.000000Z-otherhost-99-000001.jsonl.open"
    live.write_bytes(b'{"partial"')
    with open(live, "rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        make_writer().append([line(1)])
        assert live.read_bytes() == b'{"partial"'
    assert not (data_dir / "quarantine").exists()


def test_an_empty_abandoned_file_is_removed(make_writer, tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "events-20260101T000000.000000Z-h-1-000001.jsonl.open").touch()
    make_writer().append([line(1)])
    assert len(datafiles.data_files(data_dir)) == 1


# -- metrics (prometheus_client's registry is per process: compare before and after) --


def sample(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0.0


def finished(reason):
    return sample("collector_files_finished_total", reason=reason)


def test_bytes_written_and_files_finished_are_counted(make_writer, tmp_path):
    before = sample("collector_bytes_written_total"), finished("rotated"), finished("stopped")
    writer = make_writer(rotate_bytes=len(line(1)) * 2)
    writer.append([line(1), line(2)])
    writer.append([line(3)])  # rotates the first file
    writer.close()
    sizes = sum(path.stat().st_size for path in datafiles.data_files(tmp_path / "data"))
    assert sample("collector_bytes_written_total") - before[0] == sizes == 3 * len(line(1))
    assert (finished("rotated") - before[1], finished("stopped") - before[2]) == (1, 1)


def test_a_refused_write_counts_no_bytes(make_writer, tmp_path):
    (tmp_path / "data").write_text("a file where the directory should be")
    before = sample("collector_bytes_written_total")
    with pytest.raises(CollectorError):
        make_writer().append([line(1)])
    assert sample("collector_bytes_written_total") == before


def test_recovered_files_are_counted_as_finished(make_writer, tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "events-20260101T000000.000000Z-otherhost-98-000001.jsonl.open").write_bytes(line(1))
    before = finished("recovered")
    make_writer().append([line(2)])
    assert finished("recovered") - before == 1


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


def test_a_data_directory_gone_at_a_clean_stop_is_said_not_raised(tmp_path):
    data = tmp_path / "data"
    writer = EventWriter(data, rotate_bytes=1 << 20, rotate_seconds=3600, host_name="h", fsync="never")
    writer.append([line(1)])
    for path in data.iterdir():
        if path.is_file():
            path.unlink()
        else:
            shutil.rmtree(path)
    data.rmdir()
    data.write_text("not a directory")
    writer.close()  # no NotADirectoryError out of a worker's exit


def test_a_worker_booting_on_a_broken_data_directory_starts_and_refuses_until_it_is_fixed(tmp_path):
    data = tmp_path / "data"
    data.write_text("not a directory")
    writer = EventWriter(data, rotate_bytes=1 << 20, rotate_seconds=3600, host_name="h", fsync="never")
    writer.start()  # no FileExistsError out of gunicorn's post_worker_init: that would stop the whole service
    with pytest.raises(CollectorError):
        writer.append([line(1)])
    data.unlink()
    writer.append([line(2)])
    writer.close()
    assert [path.name.endswith(".jsonl") for path in data.iterdir()] == [True]


def test_a_data_directory_renamed_away_is_not_recreated_and_its_file_goes_on_once_back(make_writer, tmp_path):
    data, moved = tmp_path / "data", tmp_path / "moved"
    writer = make_writer()
    writer.append([line(1)])
    data.rename(moved)
    with pytest.raises(CollectorError) as caught:
        writer.append([line(2)])
    assert caught.value.status == 503
    writer.rotate_if_due()
    assert not data.exists()
    moved.rename(data)
    writer.append([line(3)])
    [open_file] = datafiles.data_files(data)  # the same file, not abandoned for the outage
    assert f"-{os.getpid()}-000001" in open_file.name
    assert stored(data) == [1, 3]
