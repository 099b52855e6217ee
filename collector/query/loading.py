"""The view `events`: the store's events, read by the store's own reader, in a DuckDB table.

Why not DuckDB's `read_json` over `data/events-*`: it would not cut an open
file's torn last line (a write under way) or report a damaged line or file
the way `collector events cat` does (it stops, or with `ignore_errors` counts
each as a row of NULLs, silently). So the events come from the store's reader, which reads
plain, `.gz` and open files with cat's rules and reports every bad line
(`reading.events_of_file`: file by file, as SQL needs no order);
their lines, exactly as stored, go to a temporary JSON-lines file that
DuckDB then reads in bulk (much quicker than inserting rows from Python).
Each line is wrapped as `{"e": <the event>}` and read as DuckDB's JSON type,
which keeps the text as it is: an integer beyond 64 bits stays exact, and
`->>` gives it as text.
"""

from __future__ import annotations

import contextlib
import dataclasses
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import duckdb

from ..store import reading
from . import selection


@dataclasses.dataclass
class Answer:
    names: list[str]
    json_columns: set[int]  # their values are JSON text, written as such by `formats`
    rows: list[tuple[Any, ...]]


# The stored fields, typed. Strings as text (a userId is a string, schemas.py);
# times as TIMESTAMPTZ (receivedAt is checked by the reader; a client's
# `timestamp` that is not one is NULL there, and kept as sent in `event`).
TEXT_FIELDS = ("eventType", "eventId", "userId", "anonymousId", "sessionId", "pingId", "timestampFlag")
TIME_FIELDS = ("timestamp", "originalTimestamp")
JSON_FIELDS = ("properties", "context", "messageheader", "client", "planViolations")


# No extension loaded behind the operator's back (DuckDB would download it).
CONFIG: dict[str, str | bool | int | float | list[str]] = {
    "autoload_known_extensions": False,
    "autoinstall_known_extensions": False,
}


def connect(scratch: Path) -> duckdb.DuckDBPyConnection:
    """An in-process DuckDB spilling to `scratch`, whose days and hours are UTC's (shared with loaders/parquet.py).

    The wheel has ICU built in, which follows the machine's time zone (TZ): a
    `CAST(receivedAt AS DATE)` on a VM in New York would give the day before for
    an event at 01:00Z. UTC days and hours, whatever the machine, as in
    `collector events stats`.
    """
    connection = duckdb.connect(config={**CONFIG, "temp_directory": str(scratch / "spill")})
    connection.execute("SET TimeZone = 'UTC'")
    return connection


def columns() -> str:
    """The table's columns, as SQL over `e`, a stored event as DuckDB's JSON (shared with `loaders/parquet.py`)."""
    text = [f"e->>'$.{name}' AS \"{name}\"" for name in TEXT_FIELDS]
    times = [f"try_cast(e->>'$.{name}' AS TIMESTAMPTZ) AS \"{name}\"" for name in TIME_FIELDS]
    nested = [f"e->'$.{name}' AS \"{name}\"" for name in JSON_FIELDS]
    return ", ".join(
        [
            *text,
            *times,
            "CAST(e->>'$.receivedAt' AS TIMESTAMPTZ) AS \"receivedAt\"",
            "try_cast(e->>'$.clockSkewSeconds' AS DOUBLE) AS \"clockSkewSeconds\"",
            *nested,
            "e AS event",
        ]
    )


def wrapped(line: bytes) -> bytes:
    """A stored line as FROM_WRAPPED_LINES reads it: `{"e": <the line as stored>}`."""
    return b'{"e":' + line.rstrip(b"\n") + b"}\n"


# The rows of a file of wrapped lines (the one parameter: its path).
FROM_WRAPPED_LINES = (
    f"SELECT {columns()} FROM read_json(?, format = 'newline_delimited', "
    "columns = {'e': 'JSON'}, maximum_object_size = 33554432)"
)


@contextlib.contextmanager
def opened(
    data_dirs: Sequence[Path],
    since: float | None = None,
    until: float | None = None,
    on_problem: Callable[[reading.Problem], None] = lambda problem: None,
    check: str | None = None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-process DuckDB with the table `events` of the events of `data_dirs` received in [since, until).

    What DuckDB spills to disk (a store larger than memory) goes to a
    temporary directory removed afterwards, not to its default, `./.tmp` in
    whatever directory the operator is in.

    :raises duckdb.Error: the SQL `check` is wrong: found before the store is read (`EXPLAIN` over the empty table).
    """
    with tempfile.TemporaryDirectory(prefix="collector-query-") as scratch:
        connection = connect(Path(scratch))
        try:
            connection.execute(f"CREATE TABLE events AS SELECT {columns()} FROM (SELECT NULL::JSON AS e) WHERE false")
            if check is not None:
                connection.execute(f"EXPLAIN {check}")
            lines = Path(scratch) / "events.jsonl"
            with lines.open("wb") as out:
                _write_events(selection.files_between(data_dirs, since, until), since, until, on_problem, out)
            connection.execute(f"INSERT INTO events {FROM_WRAPPED_LINES}", [str(lines)])
            lines.unlink()
            yield connection
        finally:
            connection.close()


def _write_events(
    files: list[Path],
    since: float | None,
    until: float | None,
    on_problem: Callable[[reading.Problem], None],
    out: BinaryIO,
) -> None:
    """The stored lines of the events of `files` received in [since, until), each wrapped as `{"e": ...}`."""
    low = since if since is not None else float("-inf")
    high = until if until is not None else float("inf")
    for path in files:
        for line, event in reading.events_of_file(path, on_problem):
            if low <= reading.parse_time(event["receivedAt"]) < high:
                out.write(wrapped(line))


def run(connection: duckdb.DuckDBPyConnection, sql: str) -> Answer:
    """The answer of `sql` over the view.

    :raises duckdb.Error: the SQL is wrong, or fails.
    """
    result = connection.execute(sql)
    description = result.description or []
    return Answer(
        names=[column[0] for column in description],
        json_columns={index for index, column in enumerate(description) if str(column[1]) == "JSON"},
        rows=result.fetchall(),
    )
