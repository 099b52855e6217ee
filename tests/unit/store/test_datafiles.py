"""The store's file names (what a host name becomes in them), and recovering a file that two may recover."""

from __future__ import annotations

import fcntl
import os
from datetime import UTC, datetime

from collector.store import datafiles

STARTED = datetime(2026, 11, 26, 4, 56, 52, 123456, tzinfo=UTC)


def test_a_host_name_is_part_of_a_file_name_as_written():
    # vm-a once became vm_a: an operator looks for the name they gave.
    assert datafiles.open_name(STARTED, "vm-a.example_1", 4242, 1) == (
        "events-20261126T045652.123456Z-vm-a.example_1-4242-000001.jsonl.open"
    )


def test_the_start_time_is_read_back_from_a_name_with_dashes_in_its_host():
    name = datafiles.open_name(STARTED, "vm-a-b", 4242, 1)
    assert name.split("-", 2)[1] == "20261126T045652.123456Z"


def test_a_file_another_recoverer_finished_between_opening_and_locking_is_left_to_it(tmp_path, monkeypatch):
    # A worker starting and `collector events forget` may recover the same file at once.
    path = tmp_path / datafiles.open_name(STARTED, "gone", 7, 1)
    path.write_bytes(b'{"eventType":"t"}\n')
    real_flock = fcntl.flock

    def the_other_one_first(fd, operation):
        monkeypatch.setattr(fcntl, "flock", real_flock)
        os.rename(path, datafiles.finished_path(path))  # the other recoverer's work, done meanwhile
        return real_flock(fd, operation)

    monkeypatch.setattr(fcntl, "flock", the_other_one_first)
    assert datafiles.recover_one(path, tmp_path, sync=False) is None
    assert datafiles.finished_path(path).read_bytes() == b'{"eventType":"t"}\n'
