"""The view `events`: the store's events, read by the store's own reader, in a DuckDB table.

Why not DuckDB's `read_json` over `data/events-*`: it would not cut an open
file's torn last line (a write under way) or report a damaged line or file
the way `collector events cat` does (it stops, or with `ignore_errors` counts
each as a row of NULLs, silently). So the events come from the store's reader, which reads
plain, `.gz` and open files with cat's rules and reports every bad line
(`reading.events_of_file`: file by file, as SQL needs no order, in parallel:
`workers`); their lines, exactly as stored, go to temporary JSON-lines files
that DuckDB then reads in bulk (much quicker than inserting rows from Python).
Each line is wrapped as `{"e": <the event>}` and read as DuckDB's JSON type,
which keeps the text as it is: an integer beyond 64 bits stays exact, and
`->>` gives it as text.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb

from ..store import reading
from . import selection, workers
from .workers import wrapped

__all__ = ["FROM_WRAPPED_LINES", "Answer", "connect", "opened", "run", "select", "wrapped"]


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
# The fields read from an event as text, in one pass (`select`).
_AS_TEXT = (*TEXT_FIELDS, *TIME_FIELDS, "receivedAt", "clockSkewSeconds")


# No extension loaded behind the operator's back (DuckDB would download it).
CONFIG: dict[str, str | bool | int | float | list[str]] = {
    "autoload_known_extensions": False,
    "autoinstall_known_extensions": False,
}


# The share of the machine's memory a query's DuckDB may hold before it spills to disk. DuckDB's own
# default, 80%, is more than a VM running the collector can spare (over 10 million events it held
# 12 GB of 24): bounded, it spills the table to the scratch directory (1 GB held, 86 s where 69 s).
MEMORY_SHARE = 4
MIN_MEMORY_MIB = 64


def physical_memory_mib() -> int:
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // (1024 * 1024)


def default_memory_mib() -> int:
    """A quarter of the machine's memory, at least 256 MiB (at most all of it)."""
    return min(physical_memory_mib(), max(256, physical_memory_mib() // MEMORY_SHARE))


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


def _columns() -> str:
    """The columns of `events` from `e` (a stored event as JSON) and, read from it in one pass, `texts` and `nested`.

    One `json_extract_string(e, [paths])` parses each event once; a `e->>'$.f'`
    per column parsed it once per column, 15 times (3.5 times slower over a
    million events). The values are the same, NULL for a missing field alike.
    """
    text = {name: f"texts[{index}]" for index, name in enumerate(_AS_TEXT, start=1)}
    return ", ".join(
        [
            *(f'{text[name]} AS "{name}"' for name in TEXT_FIELDS),
            *(f'try_cast({text[name]} AS TIMESTAMPTZ) AS "{name}"' for name in TIME_FIELDS),
            f'CAST({text["receivedAt"]} AS TIMESTAMPTZ) AS "receivedAt"',
            f'try_cast({text["clockSkewSeconds"]} AS DOUBLE) AS "clockSkewSeconds"',
            *(f'nested[{index}] AS "{name}"' for index, name in enumerate(JSON_FIELDS, start=1)),
            "e AS event",
        ]
    )


def _paths(fields: Sequence[str]) -> str:
    return "[" + ", ".join(f"'$.{name}'" for name in fields) + "]"


def select(source: str) -> str:
    """SELECT the columns of `events` from `source`, a relation with the JSON column `e` (a stored event)."""
    return (
        f"SELECT {_columns()} FROM (SELECT e, json_extract_string(e, {_paths(_AS_TEXT)}) AS texts, "
        f"json_extract(e, {_paths(JSON_FIELDS)}) AS nested FROM {source})"
    )


# The rows of files of wrapped lines (`wrapped`), shared with loaders/parquet.py;
# the one parameter: a file's path, or a list of them.
FROM_WRAPPED_LINES = select(
    "read_json(?, format = 'newline_delimited', columns = {'e': 'JSON'}, maximum_object_size = 33554432)"
)


@contextlib.contextmanager
def opened(
    data_dirs: Sequence[Path],
    since: float | None = None,
    until: float | None = None,
    on_problem: Callable[[reading.Problem], None] = lambda problem: None,
    check: str | None = None,
    jobs: int | None = None,
    memory_mib: int | None = None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-process DuckDB with the table `events` of the events of `data_dirs` received in [since, until).

    The files are read and checked by `jobs` processes (`workers`; default one
    per core). DuckDB holds at most `memory_mib` (default: `default_memory_mib`)
    and spills the rest (a store larger than that) to a temporary directory
    removed afterwards with the workers' files, not to its default, `./.tmp` in
    whatever directory the operator is in.

    :raises duckdb.Error: the SQL `check` is wrong: found before the store is read (`EXPLAIN` over the empty table).
    """
    with tempfile.TemporaryDirectory(prefix="collector-query-") as scratch:
        connection = connect(Path(scratch))
        try:
            connection.execute(f"SET memory_limit = '{memory_mib or default_memory_mib()}MiB'")
            connection.execute(f"CREATE TABLE events AS {select('(SELECT NULL::JSON AS e)')} WHERE false")
            if check is not None:
                connection.execute(f"EXPLAIN {check}")
            files = selection.files_between(data_dirs, since, until)
            parts = workers.write_checked(files, since, until, Path(scratch), on_problem, jobs)
            if parts:
                connection.execute(f"INSERT INTO events {FROM_WRAPPED_LINES}", [[str(part) for part in parts]])
            for part in parts:
                part.unlink()  # the table holds them now: their disk is free for DuckDB's spill
            yield connection
        finally:
            connection.close()


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
