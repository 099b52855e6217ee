"""Choosing the data files a --since/--until window needs, by the times in their names."""

from __future__ import annotations

from collector.query import selection
from collector.store import reading


def _touch(directory, *names):
    for name in names:
        (directory / name).write_bytes(b"")


def test_files_outside_the_window_by_more_than_the_slack_are_left_out(tmp_path):
    _touch(
        tmp_path,
        "events-20261126T000000.000000Z-h-1-000001.jsonl.gz",  # followed by 000002 at 06:00: ends before since
        "events-20261126T060000.000000Z-h-1-000002.jsonl",
        "events-20261126T010000.000000Z-h-2-000001.jsonl",  # no successor: may hold anything after its start
        "events-20261127T000030.000000Z-h-1-000003.jsonl.open",  # within the slack of --until
        "events-20261127T000200.000000Z-h-2-000002.jsonl.open",  # past --until by more than the slack
    )
    since, until = reading.parse_time("2026-11-26T07:00:00Z"), reading.parse_time("2026-11-27")
    names = [path.name for path in selection.files_between([tmp_path], since, until)]
    assert names == [
        "events-20261126T010000.000000Z-h-2-000001.jsonl",
        "events-20261126T060000.000000Z-h-1-000002.jsonl",
        "events-20261127T000030.000000Z-h-1-000003.jsonl.open",
    ]


def test_a_file_followed_within_the_slack_of_since_is_kept(tmp_path):
    _touch(
        tmp_path,
        "events-20261126T000000.000000Z-h-1-000001.jsonl",
        "events-20261126T065930.000000Z-h-1-000002.jsonl",
    )
    since = reading.parse_time("2026-11-26T07:00:00Z")
    assert len(selection.files_between([tmp_path], since, None)) == 2


def test_the_worker_is_host_and_pid_whatever_dashes_the_host_has(tmp_path):
    assert selection.worker_of(tmp_path / "events-20261126T000000.000000Z-vm-a-4242-000001.jsonl") == "vm-a-4242"
