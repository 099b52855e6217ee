from __future__ import annotations

import os

import pytest

from collector.erasure import rewrite
from collector.erasure.blocks import per_line
from collector.store import datafiles, reading
from tests.unit.erasure.helpers import GONE, event, lines_of, name, write


def drop_line(line: bytes) -> bytes | None:
    return None if GONE.encode() in line else line


drop_gone = per_line(drop_line)


@pytest.fixture(params=[".jsonl", ".jsonl.gz"])
def suffix(request):
    return request.param


def test_the_persons_lines_go_the_others_stay_in_order_under_the_same_name(tmp_path, suffix):
    path = write(tmp_path / name(1, suffix), [event(1), event(2, GONE), event(3), event(4, GONE)])
    os.utime(path, (1_000_000, 1_000_000))
    os.chmod(path, 0o640)
    done = rewrite.rewrite(path, drop_gone)
    assert (done.dropped, done.kept, done.removed) == (2, 2, False)
    assert lines_of(path) == [event(1), event(3)]
    assert path.stat().st_mtime == 1_000_000  # retention by age goes by it
    assert path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
    assert reading.check_file(path).problems == []


def test_a_file_left_with_no_events_is_removed(tmp_path, suffix):
    path = write(tmp_path / name(1, suffix), [event(1, GONE), event(2, GONE)])
    done = rewrite.rewrite(path, drop_gone)
    assert done.removed and done.dropped == 2
    assert list(tmp_path.iterdir()) == []


STEPS = ["written", "verified", "replaced", "synced"]


class Crash(Exception):
    pass


@pytest.mark.parametrize("at", STEPS)
def test_a_crash_at_any_step_leaves_the_old_file_or_the_new_never_both_never_neither(tmp_path, suffix, at):
    path = write(tmp_path / name(1, suffix), [event(1), event(2, GONE), event(3)])

    def crash(step: str) -> None:
        if step == at:
            raise Crash(step)

    with pytest.raises(Crash):
        rewrite.rewrite(path, drop_gone, crash)
    # What readers see: exactly one data file, old or new, and no temporary file counted.
    assert datafiles.data_files(tmp_path) == [path]
    old, new = [event(1), event(2, GONE), event(3)], [event(1), event(3)]
    assert lines_of(path) == (new if STEPS.index(at) >= STEPS.index("replaced") else old)
    # A second rewrite finishes the job.
    rewrite.rewrite(path, drop_gone)
    assert lines_of(path) == [event(1), event(3)]
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_a_crash_before_removing_an_emptied_file_leaves_it_whole(tmp_path, suffix):
    path = write(tmp_path / name(1, suffix), [event(1, GONE)])

    def crash(step: str) -> None:
        if step == "written":
            raise Crash(step)

    with pytest.raises(Crash):
        rewrite.rewrite(path, drop_gone, crash)
    assert datafiles.data_files(tmp_path) == [path] and lines_of(path) == [event(1, GONE)]


def test_a_temporary_file_left_by_a_crash_is_never_read_as_events(tmp_path):
    path = write(tmp_path / name(1), [event(1)])
    temp = rewrite.temp_path(path)
    temp.write_bytes(event(2))
    assert datafiles.data_files(tmp_path) == [path]
    assert rewrite.leftovers(tmp_path) == [temp]


def test_a_copy_that_reads_back_wrong_is_never_renamed_over_the_old(tmp_path, monkeypatch):
    path = write(tmp_path / name(1), [event(1), event(2, GONE)])
    real = rewrite._write_temp

    def short_count(*args):
        result, written = real(*args)
        return result, written + 1  # as if the disk lost a byte

    monkeypatch.setattr(rewrite, "_write_temp", short_count)
    with pytest.raises(OSError, match="reads back"):
        rewrite.rewrite(path, drop_gone)
    assert lines_of(path) == [event(1), event(2, GONE)]
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


@pytest.mark.skipif(os.geteuid() != 0, reason="only root gives a file away")
def test_run_as_root_the_rewritten_file_keeps_its_owner(tmp_path):
    path = write(tmp_path / name(1), [event(1), event(2, GONE)])
    os.chown(path, 1234, 1234)
    rewrite.rewrite(path, drop_gone)
    assert (path.stat().st_uid, path.stat().st_gid) == (1234, 1234)
