"""Reading the store for operators: events in time order, file checks, counts.

Files are found, opened and split into lines by `datafiles`, the module the
writer uses, so the format lives in one place. Used by `collector events`.
"""

from __future__ import annotations

import dataclasses
import gzip
import heapq
import zlib
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import jsontext
from . import datafiles

# A request takes its `receivedAt` before it waits for the writer, which may
# then open a new file: a file's first events can be a little older than the
# start time in its name. Files starting within this window are merged together.
MERGE_SLACK_SECONDS = 60.0


# How much later than its `receivedAt` a line may be written, for reading in
# order (see `_in_order`): the time a request takes from taking it to its
# write (encoding its lines, waiting for the file lock), milliseconds even on
# a busy 2-core VM; seconds only with a stalled disk.
REORDER_SECONDS = 5.0

# What reading a damaged file raises: a truncated or corrupt gzip stream, a
# file named like a data file that is not gzip, a failing disk.
UNREADABLE = (OSError, EOFError, zlib.error, gzip.BadGzipFile)


def unreadable(error: BaseException) -> str:
    """Why a file could not be read on, as readers report it."""
    if isinstance(error, datafiles.NotADataFile):
        return str(error)
    if isinstance(error, EOFError):
        return "unreadable from here: the compressed file is truncated"
    return f"unreadable from here: {error}"


@dataclasses.dataclass
class Problem:
    path: Path
    line: int  # 0: the file as a whole
    reason: str


@dataclasses.dataclass
class FileReport:
    path: Path
    events: int = 0
    bytes: int = 0
    first: str = ""
    last: str = ""
    problems: list[Problem] = dataclasses.field(default_factory=list)


def parse_time(text: str) -> float:
    """An RFC 3339 / ISO 8601 date or date-time as epoch seconds; no offset means UTC.

    :raises ValueError: not a date or date-time.
    """
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def check_line(raw: bytes) -> tuple[dict[str, Any] | None, str]:
    """The event of one stored line, or None and what is wrong with it."""
    if not raw.endswith(b"\n"):
        return None, "torn line: no newline at the end"
    try:
        # The writer's own rules: integers beyond 64 bits read back exactly.
        event = jsontext.loads(raw)
    except jsontext.InvalidJSON as error:
        return None, error.reason.removeprefix("is ")
    if not isinstance(event, dict) or not isinstance(event.get("receivedAt"), str):
        return None, "not an event: an object with a receivedAt string"
    try:
        parse_time(event["receivedAt"])
    except ValueError:
        return None, f"receivedAt is not a time: {event['receivedAt']!r}"
    return event, ""


def check_file(path: Path) -> FileReport:
    """Every line of one file checked, with counts for `collector events verify`."""
    report = FileReport(path)
    number = 0
    try:
        for number, raw in enumerate(datafiles.iter_lines(path), start=1):
            report.bytes += len(raw)
            event, reason = check_line(raw)
            if event is None:
                report.problems.append(Problem(path, number, reason))
                _stop_if_too_many(len(report.problems))
                continue
            report.events += 1
            report.first = report.first or event["receivedAt"]
            report.last = event["receivedAt"]
    except FileNotFoundError:
        report.problems.append(Problem(path, 0, "removed while being checked"))
    except UNREADABLE as error:
        report.problems.append(Problem(path, number + 1, unreadable(error)))
    return report


def events_in_time_order(
    data_dirs: Path | Sequence[Path], on_problem: Callable[[Problem], None] = lambda problem: None
) -> Iterator[tuple[bytes, dict[str, Any]]]:
    """(line, event) of every valid stored event of one data directory, or several, oldest `receivedAt` first.

    Files are merged a few at a time (those that overlap in time), so the
    number of open files stays small however many files there are. Files of
    several directories (one per VM) are merged as those of several workers
    are: names start with the file's start time, and sort by it.
    """
    if isinstance(data_dirs, Path):
        data_dirs = [data_dirs]
    files = [path for data_dir in data_dirs for path in datafiles.data_files(data_dir)]
    return _in_order(_merged(deque(sorted(files, key=lambda path: path.name)), on_problem))


def _merged(
    waiting: deque[Path], on_problem: Callable[[Problem], None]
) -> Iterator[tuple[float, bytes, dict[str, Any]]]:
    """(receivedAt, line, event) of the files in `waiting`, merged by receivedAt, each file read in its own order."""
    heap: list[tuple[float, int, bytes, dict[str, Any], Iterator]] = []
    order = 0

    def push(source: Iterator) -> None:
        nonlocal order
        for line, event in source:
            order += 1
            heapq.heappush(heap, (parse_time(event["receivedAt"]), order, line, event, source))
            return

    while waiting or heap:
        while waiting and (
            not heap or parse_time(datafiles.started_at(waiting[0])) - MERGE_SLACK_SECONDS <= heap[0][0]
        ):
            push(_valid_events(waiting.popleft(), on_problem))
        if heap:
            moment, _, line, event, source = heapq.heappop(heap)
            yield moment, line, event
            push(source)


def _in_order(merged: Iterator[tuple[float, bytes, dict[str, Any]]]) -> Iterator[tuple[bytes, dict[str, Any]]]:
    """The merged events in receivedAt order, though a file's own lines are not quite.

    A file's lines are in the order they were written, each request's after
    its `receivedAt`: a request that took its time a few milliseconds before
    another can be written after it. Each event is held back until events
    REORDER_SECONDS newer have been read (memory: the events of that long).
    """
    held: list[tuple[float, int, bytes, dict[str, Any]]] = []
    newest = float("-inf")
    for order, (moment, line, event) in enumerate(merged):
        newest = max(newest, moment)
        heapq.heappush(held, (moment, order, line, event))
        while held[0][0] < newest - REORDER_SECONDS:
            _, _, line, event = heapq.heappop(held)
            yield line, event
    while held:
        _, _, line, event = heapq.heappop(held)
        yield line, event


def events_of_file(path: Path, on_problem: Callable[[Problem], None]) -> Iterator[tuple[bytes, dict]]:
    """(line, event) of the valid events of one file in the order written, with `cat`'s rules.

    For a reader that needs no order (`collector events query`: SQL sorts for
    itself), which then saves the merge: about a fifth of the reading time.
    """
    return _valid_events(path, on_problem)


def _valid_events(path: Path, on_problem: Callable[[Problem], None]) -> Iterator[tuple[bytes, dict]]:
    """The valid events of one file; bad lines, and a file that cannot be read
    on (truncated or not gzip), go to `on_problem`, and the other files are read on."""
    number = bad = 0
    try:
        for number, raw in enumerate(datafiles.iter_lines(path), start=1):
            event, reason = check_line(raw)
            if event is None:
                on_problem(Problem(path, number, reason))
                bad += 1
                _stop_if_too_many(bad)
            else:
                yield raw, event
    except FileNotFoundError:
        return  # deleted by retention since it was listed
    except UNREADABLE as error:
        on_problem(Problem(path, number + 1, unreadable(error)))


def _stop_if_too_many(bad_lines: int) -> None:
    if bad_lines >= datafiles.MAX_BAD_LINES:
        raise datafiles.NotADataFile(f"{bad_lines} bad lines: damaged throughout, the rest is not read")


def bot_of(event: dict[str, Any]) -> dict[str, Any] | None:
    """A stored event's `client.bot` (`{"name", "category"}`), or None for a person's (see docs/bots.md)."""
    client = event.get("client")
    bot = client.get("bot") if isinstance(client, dict) else None
    return bot if isinstance(bot, dict) else None


def count_events(events: Iterator[dict[str, Any]]) -> tuple[Counter, Counter]:
    """Events per type and per hour (`2026-11-26T05`) of receivedAt."""
    per_type: Counter = Counter()
    per_hour: Counter = Counter()
    for event in events:
        per_type[str(event.get("eventType"))] += 1
        per_hour[event["receivedAt"][:13]] += 1
    return per_type, per_hour


def stored_event_ids(
    data_dirs: Path | Sequence[Path], wanted: set[tuple[str | None, str]], since: float
) -> set[tuple[str | None, str]]:
    """The (client.keyId, eventId) pairs of `wanted` that stored events hold, in files started at or after `since`.

    For `collector deadletter replay`, which must never store an event twice:
    event ids are the client's, scoped per write key. A file that cannot be
    read is passed over: what it holds may be stored again (never lost).
    """
    if isinstance(data_dirs, Path):
        data_dirs = [data_dirs]
    ids = {event_id for _, event_id in wanted}
    found: set[tuple[str | None, str]] = set()
    for path in (path for data_dir in data_dirs for path in datafiles.data_files(data_dir)):
        if parse_time(datafiles.started_at(path)) < since:
            continue
        for _, event in _valid_events(path, lambda problem: None):
            event_id = event.get("eventId")
            if isinstance(event_id, str) and event_id in ids:
                client = event.get("client")
                pair = (client.get("keyId") if isinstance(client, dict) else None, event_id)
                if pair in wanted:
                    found.add(pair)
    return found
