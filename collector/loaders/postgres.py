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
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg

from ..store import datafiles, reading
from .files import finished_files, ledger_name

EVENTS_TABLE = "collector_events"
LEDGER_TABLE = "collector_loaded_files"
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
"""


class AlreadyRunning(Exception):
    """Another loader holds the lock of this database."""


@dataclasses.dataclass
class Outcome:
    loaded: list[str] = dataclasses.field(default_factory=list)
    events: int = 0
    problems: list[reading.Problem] = dataclasses.field(default_factory=list)
    failed: list[str] = dataclasses.field(default_factory=list)


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
        done = {row[0] for row in connection.execute(f"SELECT name FROM {LEDGER_TABLE}")}
        for path in finished_files(data_dir):
            if ledger_name(path) in done:
                continue
            _load_one(connection, path, outcome, on_problem)
    return outcome


def _load_one(
    connection: psycopg.Connection, path: Path, outcome: Outcome, on_problem: Callable[[reading.Problem], None]
) -> None:
    """One file in one transaction: its ledger row claimed first, its rows, then the row's counts."""
    name = ledger_name(path)
    problems: list[reading.Problem] = []
    try:
        with connection.transaction():
            claimed = connection.execute(
                f"INSERT INTO {LEDGER_TABLE} (name, size, lines, bad_lines, sha256) VALUES (%s, 0, 0, 0, '') "
                "ON CONFLICT (name) DO NOTHING",
                (name,),
            ).rowcount
            if not claimed:
                return  # loaded meanwhile by a loader that got past the lock (never, but never twice either)
            digest, size, lines, events = _copy_rows(connection, path, name, problems)
            connection.execute(
                f"UPDATE {LEDGER_TABLE} SET size = %s, lines = %s, bad_lines = %s, sha256 = %s WHERE name = %s",
                (size, lines, lines - events, digest, name),
            )
    except (*reading.UNREADABLE, _Unreadable, psycopg.DataError) as error:
        # Rolled back: a file that cannot be read to its end, or that holds a
        # value PostgreSQL refuses (jsonb takes no \u0000), is not half loaded;
        # it is reported, the others are loaded, and it is tried again next run.
        problem = _problem_of(path, error)
        on_problem(problem)
        outcome.problems.append(problem)
        outcome.failed.append(name)
        return
    for problem in problems:
        on_problem(problem)
    outcome.problems.extend(problems)
    outcome.loaded.append(name)
    outcome.events += events


def _problem_of(path: Path, error: BaseException) -> reading.Problem:
    if isinstance(error, _Unreadable):
        return error.problem
    if isinstance(error, psycopg.DataError):
        return reading.Problem(path, 0, f"refused by PostgreSQL, not loaded: {error}")
    return reading.Problem(path, 0, reading.unreadable(error))


class _Unreadable(Exception):
    def __init__(self, problem: reading.Problem) -> None:
        super().__init__(problem.reason)
        self.problem = problem


def _copy_rows(
    connection: psycopg.Connection, path: Path, name: str, problems: list[reading.Problem]
) -> tuple[str, int, int, int]:
    """COPY the valid events of one file; its SHA-256 (of the lines, uncompressed), bytes, lines and events."""
    digest = hashlib.sha256()
    size = lines = events = 0
    with connection.cursor().copy(f"COPY {EVENTS_TABLE} ({', '.join(COLUMNS)}) FROM STDIN") as copy:
        try:
            for raw in datafiles.iter_lines(path):
                lines += 1
                size += len(raw)
                digest.update(raw)
                event, reason = reading.check_line(raw)
                if event is None:
                    problems.append(reading.Problem(path, lines, reason))
                    continue
                copy.write_row(row(name, lines, event))
                events += 1
        except reading.UNREADABLE as error:
            raise _Unreadable(reading.Problem(path, lines + 1, reading.unreadable(error))) from error
    return digest.hexdigest(), size, lines, events


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
    # The standard library writes integers beyond 64 bits exactly (orjson refuses them).
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def ledger(dsn: str) -> Iterator[tuple[str, int, int, str]]:
    """(name, size, lines, sha256) of every loaded file, by name."""
    with psycopg.connect(dsn) as connection:
        yield from connection.execute(f"SELECT name, size, lines, sha256 FROM {LEDGER_TABLE} ORDER BY name")
