"""The store's files read and checked by worker processes, the damage reported in the files' order."""

from __future__ import annotations

import gzip
import os

import pytest

from collector.query import workers
from collector.store import reading

GOOD = b'{"eventType":"a","receivedAt":"2026-11-26T05:00:00.000Z"}\n'
LATE = b'{"eventType":"b","receivedAt":"2026-11-26T07:00:00.000Z"}\n'


@pytest.fixture
def files(tmp_path):
    """Three files, each with bad lines, one of them .gz and one open with a torn last line."""
    data = tmp_path / "data"
    data.mkdir()
    paths = [
        data / "events-20261126T050000.000000Z-h-1-000001.jsonl.gz",
        data / "events-20261126T050000.000000Z-h-2-000001.jsonl",
        data / "events-20261126T060000.000000Z-h-1-000002.jsonl.open",
    ]
    paths[0].write_bytes(gzip.compress(GOOD + b"not json\n" + LATE))
    paths[1].write_bytes(b'{"no":"receivedAt"}\n' + GOOD + b"[1,\n")
    paths[2].write_bytes(LATE + GOOD + b'{"eventType":"c","rec')
    return paths


def _problems_and_parts(files, tmp_path, jobs, until=None):
    folder = tmp_path / f"parts-{jobs}"
    folder.mkdir()
    problems: list[reading.Problem] = []
    parts = workers.write_checked(files, None, until, folder, problems.append, jobs)
    return [(p.path.name, p.line, p.reason) for p in problems], [part.read_bytes() for part in parts]


def test_two_workers_write_and_report_what_one_does_in_the_same_order(files, tmp_path):
    alone = _problems_and_parts(files, tmp_path, 1)
    assert alone == _problems_and_parts(files, tmp_path, 2)
    problems, parts = alone
    assert [(name, line) for name, line, _ in problems] == [
        (files[0].name, 2),
        (files[1].name, 1),
        (files[1].name, 3),
        (files[2].name, 3),
    ]
    assert problems[-1][2] == "torn line: no newline at the end"
    assert parts[0] == b'{"e":' + GOOD.rstrip() + b'}\n{"e":' + LATE.rstrip() + b"}\n"


def test_the_window_is_kept_by_the_workers(files, tmp_path):
    until = reading.parse_time("2026-11-26T06:00:00Z")
    _problems, parts = _problems_and_parts(files, tmp_path, 2, until)
    assert b"".join(parts).count(b'"receivedAt"') == 3  # the three at 05:00, none at 07:00


@pytest.mark.parametrize(
    ("files", "jobs", "processes"),
    [
        (10, None, min(10, os.cpu_count() or 1)),  # one per core, by default
        (1, None, 1),  # never more than the files
        (0, None, 1),
        (3, 1, 1),
        (1, 2, 1),
    ],
)
def test_the_processes_are_one_per_core_and_at_most_one_per_file(files, jobs, processes):
    assert workers.jobs_for(files, jobs) == processes


def test_no_more_jobs_than_cores():
    assert workers.max_jobs() == (os.cpu_count() or 1)
