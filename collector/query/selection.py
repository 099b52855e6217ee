"""Which data files a `--since/--until` window needs: chosen by the times in their names, before any is opened.

A file's name carries its start time, and its events are no older than that
by more than `reading.MERGE_SLACK_SECONDS` (a request takes its `receivedAt`
before it waits for the writer). A file's worker (host and pid) starts its
next file only after finishing it, so a file's events are no newer than its
successor's start, with the same slack. Files outside the window by more
than that are not read; the rows are then filtered on `receivedAt` exactly.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path

from ..store import datafiles, reading


def worker_of(path: Path) -> str:
    """The host and pid in a data file's name (`events-STAMP-host-4242-000001.jsonl`: `host-4242`)."""
    rest = path.name.split("-", 2)[2]
    return rest.rsplit("-", 1)[0]


def files_between(data_dirs: Sequence[Path], since: float | None, until: float | None) -> list[Path]:
    """The data files of `data_dirs` that may hold events received in [since, until)."""
    slack = reading.MERGE_SLACK_SECONDS
    chosen: list[Path] = []
    for data_dir in data_dirs:
        files = datafiles.data_files(data_dir)
        ends = _successor_starts(files)
        for path in files:
            if until is not None and reading.parse_time(datafiles.started_at(path)) - slack >= until:
                continue
            if since is not None and path in ends and ends[path] + slack < since:
                continue
            chosen.append(path)
    return chosen


def _successor_starts(files: list[Path]) -> dict[Path, float]:
    """For each file that its worker followed with another, that next file's start time."""
    by_worker: dict[str, list[tuple[float, Path]]] = {}
    for path in files:
        by_worker.setdefault(worker_of(path), []).append((reading.parse_time(datafiles.started_at(path)), path))
    ends: dict[Path, float] = {}
    for started in by_worker.values():
        started.sort()
        for (_, path), (next_start, _) in itertools.pairwise(started):
            ends[path] = next_start
    return ends
