"""`collector load postgres`: finished files into a PostgreSQL table, each exactly once.

Exactly once rests on one transaction per file: the file's ledger row (its
name, size, lines and SHA-256) is inserted first, then its rows are copied
in, and the two commit together or not at all. A loader killed or cut off
mid-file leaves nothing of that file (PostgreSQL rolls back the transaction
of a connection that went away), and the next run loads it whole.

Two loaders at once (a systemd timer's run outlasting its interval, or a
hand run beside it): a session advisory lock lets one load, the other exits
at once; the ledger's primary key, claimed first in each file's transaction,
would still stop a second copy of a file should the lock ever be bypassed.
A lock held by a connection that died is released by the server with it.

An erasure (`collector events forget`, docs/erasure.md) rewrites or removes
files already loaded. Each run first applies the erasures logged in the data
directory's `erasures.log` that this database has not applied yet: what was
loaded of the files an erasure names is replaced by those files as they are
now (or dropped, if the erasure removed them), and the erasure marked applied
(`collector_applied_erasures`, by the SHA-256 of its log line), all in one
transaction: a reader sees the rows before or after, never a gap, and a
loader killed meanwhile applies it whole on its next run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import psycopg

from ..store import reading
from .files import (
    Outcome,
    Tally,
    Unreadable,
    checked_events,
    erasures_to_apply,
    finished_file,
    finished_files,
    ledger_name,
)

EVENTS_TABLE = "collector_events"
LEDGER_TABLE = "collector_loaded_files"
ERASURES_TABLE = "collector_applied_erasures"
# pg_try_advisory_lock's key: any fixed 64-bit number, the same for every loader of a database.
LOCK_KEY = 0x636F6C6C6563746F  # "collecto"

# The nested fields, as jsonb (numbers in jsonb are exact decimals: integers
# beyond 64 bits are kept, never rounded); the stored top-level strings, as
# text columns; every other field (timestampFlag, planViolations, ...) in `extra`.
JSON_FIELDS = ("properties", "context", "messageheader", "client")
TEXT_FIELDS = {
    "eventType": "event_type",
    "eventId": "event_id",
    "userId": "user_id",
    "anonymousId": "anonymous_id",
    "sessionId": "session_id",
    "pingId": "ping_id",
}
TIME_FIELDS = {"timestamp": "event_time", "receivedAt": "received_at"}
COLUMNS = (
    "file", "line", *TEXT_FIELDS.values(), *TIME_FIELDS.values(), *JSON_FIELDS, "extra",
)  # fmt: skip

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {LEDGER_TABLE} (
    name text PRIMARY KEY,
    size bigint NOT NULL,
    lines bigint NOT NULL,
    bad_lines bigint NOT NULL,
    sha256 text NOT NULL,
    loaded_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS {EVENTS_TABLE} (
    file text NOT NULL REFERENCES {LEDGER_TABLE} (name),
    line integer NOT NULL,
    event_type text, event_id text, user_id text, anonymous_id text, session_id text, ping_id text,
    event_time timestamptz,
    received_at timestamptz NOT NULL,
    properties jsonb, context jsonb, messageheader jsonb, client jsonb,
    extra jsonb,
    PRIMARY KEY (file, line)
);
CREATE INDEX IF NOT EXISTS {EVENTS_TABLE}_received_at ON {EVENTS_TABLE} (received_at);
CREATE INDEX IF NOT EXISTS {EVENTS_TABLE}_type_time ON {EVENTS_TABLE} (event_type, received_at);
CREATE TABLE IF NOT EXISTS {ERASURES_TABLE} (
    entry text PRIMARY KEY,
    files text[] NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);
"""


class AlreadyRunning(Exception):
    """Another loader holds the lock of this database."""


def load(dsn: str, data_dir: Path, on_problem: Callable[[reading.Problem], None] = lambda problem: None) -> Outcome:
    """Load every finished file of `data_dir` not in the ledger yet, one transaction per file.

    :raises AlreadyRunning: another loader holds the lock.
    :raises psycopg.OperationalError: the connection failed or was lost; what
        was committed stays, the file being loaded is rolled back whole.
    """
    outcome = Outcome()
    with psycopg.connect(dsn, autocommit=True) as connection:
        if not connection.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()[0]:  # type: ignore[index]
            raise AlreadyRunning("another loader is loading into this database: nothing done")
        connection.execute(SCHEMA)
        _apply_erasures(connection, data_dir, outcome, on_problem)
        done = {row[0] for row in connection.execute(f"SELECT name FROM {LEDGER_TABLE}")}
        for path in finished_files(data_dir):
            if ledger_name(path) in done:
                continue
            _load_one(connection, path, outcome, on_problem)
    return outcome


# What stops one file (or one erasure) from being loaded whole: it is rolled back, reported, and tried again.
_NOT_LOADED = (*reading.UNREADABLE, Unreadable, psycopg.DataError)


def _load_one(
    connection: psycopg.Connection, path: Path, outcome: Outcome, on_problem: Callable[[reading.Problem], None]
) -> None:
    """One file in one transaction."""
    problems: list[reading.Problem] = []
    try:
        with connection.transaction():
            events = _claim_and_copy(connection, path, problems)
    except _NOT_LOADED as error:
        # Rolled back: a file that cannot be read to its end, or that holds a
        # value PostgreSQL refuses (jsonb takes no \u0000), is not half loaded;
        # it is reported, the others are loaded, and it is tried again next run.
        _failed(path, error, outcome, on_problem)
        return
    if events is None:
        return  # loaded meanwhile by a loader that got past the lock (never, but never twice either)
    for problem in problems:
        on_problem(problem)
    outcome.problems.extend(problems)
    outcome.files.append(ledger_name(path))
    outcome.events += events


def _claim_and_copy(connection: psycopg.Connection, path: Path, problems: list[reading.Problem]) -> int | None:
    """In the caller's transaction: the file's ledger row claimed first, its rows, then the row's counts; its
    events, or None if the ledger has it already."""
    name = ledger_name(path)
    claimed = connection.execute(
        f"INSERT INTO {LEDGER_TABLE} (name, size, lines, bad_lines, sha256) VALUES (%s, 0, 0, 0, '') "
        "ON CONFLICT (name) DO NOTHING",
        (name,),
    ).rowcount
    if not claimed:
        return None
    digest, size, lines, events = _copy_rows(connection, path, name, problems)
    connection.execute(
        f"UPDATE {LEDGER_TABLE} SET size = %s, lines = %s, bad_lines = %s, sha256 = %s WHERE name = %s",
        (size, lines, lines - events, digest, name),
    )
    return events


def _apply_erasures(
    connection: psycopg.Connection, data_dir: Path, outcome: Outcome, on_problem: Callable[[reading.Problem], None]
) -> None:
    """Each erasure logged and not applied here yet, in one transaction: the loaded files it names dropped and
    loaded again as they are now (a file it removed, only dropped), the erasure marked applied."""
    applied = {row[0] for row in connection.execute(f"SELECT entry FROM {ERASURES_TABLE}")}
    for entry, named in erasures_to_apply(data_dir, applied):
        problems: list[reading.Problem] = []
        path = None
        try:
            with connection.transaction():
                loaded = [
                    row[0]
                    for row in connection.execute(f"SELECT name FROM {LEDGER_TABLE} WHERE name = ANY(%s)", (named,))
                ]
                connection.execute(f"DELETE FROM {EVENTS_TABLE} WHERE file = ANY(%s)", (loaded,))
                connection.execute(f"DELETE FROM {LEDGER_TABLE} WHERE name = ANY(%s)", (loaded,))
                for name in loaded:
                    path = finished_file(data_dir, name)
                    if path is not None:
                        _claim_and_copy(connection, path, problems)
                connection.execute(f"INSERT INTO {ERASURES_TABLE} (entry, files) VALUES (%s, %s)", (entry, loaded))
        except _NOT_LOADED as error:
            # The erasure is not applied (the rows loaded before it stay until it is): said, exit 1, next run.
            _failed(path or Path(data_dir) / "erasures.log", error, outcome, on_problem)
            continue
        for problem in problems:
            on_problem(problem)
        outcome.problems.extend(problems)
        outcome.erasures += 1


def _failed(path: Path, error: BaseException, outcome: Outcome, on_problem: Callable[[reading.Problem], None]) -> None:
    problem = _problem_of(path, error)
    on_problem(problem)
    outcome.problems.append(problem)
    outcome.failed.append(ledger_name(path))


def _problem_of(path: Path, error: BaseException) -> reading.Problem:
    if isinstance(error, Unreadable):
        return error.problem
    if isinstance(error, psycopg.DataError):
        return reading.Problem(path, 0, f"refused by PostgreSQL, not loaded: {error}")
    return reading.Problem(path, 0, reading.unreadable(error))


def _copy_rows(
    connection: psycopg.Connection, path: Path, name: str, problems: list[reading.Problem]
) -> tuple[str, int, int, int]:
    """COPY the valid events of one file; its SHA-256 (of the lines, uncompressed), bytes, lines and events."""
    tally = Tally()
    with connection.cursor().copy(f"COPY {EVENTS_TABLE} ({', '.join(COLUMNS)}) FROM STDIN") as copy:
        for line, _raw, event in checked_events(path, tally):
            copy.write_row(row(name, line, event))
    problems.extend(tally.problems)
    return tally.digest.hexdigest(), tally.size, tally.lines, tally.events


def row(name: str, line: int, event: dict[str, Any]) -> tuple[Any, ...]:
    """One event as the values of COLUMNS."""
    rest = dict(event)
    texts = [_text(rest.pop(field, None)) for field in TEXT_FIELDS]
    times = [_text(rest.pop(field, None)) for field in TIME_FIELDS]
    nested = [_json(rest.pop(field)) if field in rest else None for field in JSON_FIELDS]
    return (name, line, *texts, *times, *nested, _json(rest) if rest else None)


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return _json(value)


def _json(value: Any) -> str:
    # Writing the nested fields again was most of the loader's time with the
    # standard library alone: orjson writes them 4 times quicker, and the same
    # values (a stored event holds no NaN, which orjson would write as null).
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        # Integers beyond 64 bits, which orjson refuses: the standard library writes them exactly.
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def ledger(dsn: str) -> Iterator[tuple[str, int, int, str]]:
    """(name, size, lines, sha256) of every loaded file, by name."""
    with psycopg.connect(dsn) as connection:
        yield from connection.execute(f"SELECT name, size, lines, sha256 FROM {LEDGER_TABLE} ORDER BY name")
