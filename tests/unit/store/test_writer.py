"""The writer's public face on real files in tmp_path: storing, recovery at start, 503s, metrics."""

import fcntl
import os
import shutil

import pytest

from collector.errors import CollectorError
from collector.store import datafiles
from collector.store.writer import EventWriter
from tests.unit.store.writing import finished, line, sample, stored


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
