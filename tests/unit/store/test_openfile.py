"""collector/store/openfile.py, through the writer and alone: names, rotation, files changed from outside, cut-backs."""

import errno
import os

import pytest

from collector.store import datafiles
from collector.store.fsyncpolicy import FsyncPolicy
from collector.store.openfile import OpenFile
from tests.unit.store.writing import Clock, line, stored


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


@pytest.fixture
def finished_files():
    return []


@pytest.fixture
def open_file(tmp_path, finished_files):
    (tmp_path / "data").mkdir()
    file = OpenFile(tmp_path / "data", "testhost", FsyncPolicy("never"), Clock(), lambda: finished_files.append(True))
    file.forget(os.getpid())
    yield file
    file.close()


def test_a_write_failing_part_way_is_cut_back_to_the_last_whole_line(open_file, monkeypatch):
    open_file.open()
    open_file.append(line(1), sync=False)
    real_write_all = datafiles.write_all

    def half_then_disk_full(fd, data):
        real_write_all(fd, data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(datafiles, "write_all", half_then_disk_full)
    with pytest.raises(OSError):
        open_file.append(line(2) + line(3), sync=False)
    assert open_file.path.read_bytes() == line(1)
    assert open_file.size == len(line(1))


def test_files_are_named_by_host_process_and_sequence_and_finished_by_rename(open_file, finished_files):
    open_file.open()
    first = open_file.path
    open_file.append(line(1), sync=False)
    open_file.finish("rotated")
    open_file.open()
    assert first.name.endswith(f"-testhost-{os.getpid()}-000001.jsonl.open")
    assert open_file.path.name.endswith(f"-testhost-{os.getpid()}-000002.jsonl.open")
    assert datafiles.finished_path(first).read_bytes() == line(1) and finished_files == [True]


def test_an_empty_file_is_removed_when_finished(open_file):
    open_file.open()
    path = open_file.path
    open_file.finish("rotated")
    assert not path.exists() and open_file.fd is None
    assert datafiles.data_files(open_file.data_dir) == []
