"""The store's file names: what a host name becomes in them."""

from __future__ import annotations

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
