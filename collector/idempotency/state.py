"""Where the collector remembers what it stored: request keys and event ids, for a window.

Two places, one interface:

- `SQLiteState`: a SQLite file in WAL mode in the data directory
  (`.idempotency.sqlite3`), shared by every worker of one VM with no server to
  run. SQLite's own locking makes a claim atomic across processes.
- `MemcachedState`: the memcached that COLLECTOR_RATE_LIMIT_STORAGE already
  names, so that several VMs share it. `add` is memcached's atomic claim.

Keys expire after COLLECTOR_IDEMPOTENCY_SECONDS; the SQLite file is pruned of
expired rows as it goes and capped in rows, and memcached evicts on its own.
Losing the state (the file deleted, memcached restarted) forgets what was
stored: retries are then stored again. That degrades to at-least-once, never
to a lost event, because a key is recorded only after its events are stored.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import re
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from pymemcache.exceptions import MemcacheError

from .. import datadir, sqlitefiles
from ..memcachedexpiry import expire

logger = logging.getLogger(__name__)

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
FILE_NAME = ".idempotency.sqlite3"
# Rows kept at most; past it the oldest go first (a full table costs a retry
# its deduplication, never an event).
MAX_ROWS = 1_000_000
# How long a claimed, unfinished request keeps others waiting (409) before a
# retry may store it: a worker that crashed between its claim and its store.
PENDING_SECONDS = 60.0


# What a state that is away raises: SQLite (locked past its timeout, disk
# full, file gone), memcached (refused, timed out, a bad reply).
STATE_ERRORS = (sqlite3.Error, OSError, MemcacheError)


class StateBusy(Exception):
    """The SQLite file stayed locked (another process in a transaction) past the timeout: nothing was claimed."""


def is_busy(error: sqlite3.Error) -> bool:
    # SQLITE_BUSY ("database is locked") and SQLITE_LOCKED ("database table is locked").
    return isinstance(error, sqlite3.OperationalError) and ("locked" in str(error) or "busy" in str(error))


@dataclasses.dataclass(frozen=True)
class Claim:
    """What a request found under its key: nothing (`claimed`, it is now its own), or someone's."""

    outcome: str  # "claimed", "pending" or "done"
    fingerprint: str = ""
    response: bytes = b""


class State(Protocol):
    def claim(self, key: str, fingerprint: str) -> Claim: ...
    def complete(self, key: str, fingerprint: str, response: bytes) -> None: ...
    def release(self, key: str) -> None: ...
    def stored_events(self, event_ids: list[str]) -> set[str]: ...
    def record_events(self, event_ids: list[str]) -> None: ...
    def close(self) -> None: ...


def digest(text: str) -> str:
    """A fixed-size key for any client-given string (memcached keys must be short and plain)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class SQLiteState:
    """The state in a SQLite file, shared by the workers of one VM.

    Each statement waits at most `timeout` seconds (COLLECTOR_IDEMPOTENCY_TIMEOUT)
    for the file's lock: a request must be answered well before a proxy gives
    up on it (nginx's 10 s in the recipe), or its client resends a request that
    was then stored after all.
    """

    def __init__(
        self,
        data_dir: Path,
        window_seconds: float,
        clock: Callable[[], float] = time.time,
        *,
        timeout: float = sqlitefiles.TIMEOUT_SECONDS,
    ) -> None:
        self.path = Path(data_dir) / FILE_NAME
        self.window = window_seconds
        self.timeout = timeout
        self._clock = clock
        self._local = threading.local()
        self._writes = 0

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is not None and self._local.inode == sqlitefiles.inode(self.path):
            return db
        if db is not None:
            db.close()  # the file was deleted or replaced: start afresh (at-least-once from here)
        datadir.check(self.path.parent)  # never re-created: see collector/datadir.py
        db = sqlitefiles.connect(self.path, self.timeout)
        db.execute(
            "CREATE TABLE IF NOT EXISTS requests (key TEXT PRIMARY KEY, fingerprint TEXT, "
            "status TEXT, response BLOB, expires REAL)"
        )
        db.execute("CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, expires REAL)")
        db.execute("CREATE INDEX IF NOT EXISTS requests_expiry ON requests (expires)")
        db.execute("CREATE INDEX IF NOT EXISTS events_expiry ON events (expires)")
        self._local.db = db
        # Each thread has its own connection: each notices a deleted file by itself.
        self._local.inode = sqlitefiles.inode(self.path)
        return db

    def claim(self, key: str, fingerprint: str) -> Claim:
        """What `key` holds, claiming it if free.

        :raises StateBusy: the file stayed locked past the timeout; the caller must store nothing.
        """
        try:
            return self._claim(key, fingerprint)
        except sqlite3.Error as error:
            if is_busy(error):
                raise StateBusy(str(error)) from error
            raise

    def _claim(self, key: str, fingerprint: str) -> Claim:
        now = self._clock()
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute(
                "SELECT fingerprint, status, response, expires FROM requests WHERE key = ?", (key,)
            ).fetchone()
            if row is not None and row[3] > now:
                db.execute("COMMIT")
                return Claim(row[1], row[0], row[2] or b"")
            db.execute(
                "INSERT OR REPLACE INTO requests VALUES (?, ?, 'pending', NULL, ?)",
                (key, fingerprint, now + PENDING_SECONDS),
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return Claim("claimed")

    def complete(self, key: str, fingerprint: str, response: bytes) -> None:
        self._write(
            "INSERT OR REPLACE INTO requests VALUES (?, ?, 'done', ?, ?)",
            (key, fingerprint, response, self._clock() + self.window),
        )

    def release(self, key: str) -> None:
        self._write("DELETE FROM requests WHERE key = ? AND status = 'pending'", (key,))

    def stored_events(self, event_ids: list[str]) -> set[str]:
        if not event_ids:
            return set()
        now = self._clock()
        marks = ",".join("?" * len(event_ids))
        rows = self._db().execute(
            f"SELECT id FROM events WHERE expires > ? AND id IN ({marks})", (now, *event_ids)
        ).fetchall()
        return {row[0] for row in rows}

    def record_events(self, event_ids: list[str]) -> None:
        if not event_ids:
            return
        expires = self._clock() + self.window
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany("INSERT OR REPLACE INTO events VALUES (?, ?)", [(i, expires) for i in event_ids])
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self._maybe_prune(len(event_ids))

    def _write(self, sql: str, parameters: tuple) -> None:
        self._db().execute(sql, parameters)
        self._maybe_prune(1)

    def _maybe_prune(self, writes: int) -> None:
        self._writes += writes
        if self._writes < 1000:
            return
        self._writes = 0
        db = self._db()
        now = self._clock()
        # One transaction: one wait for the lock at most, not one per statement.
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("DELETE FROM requests WHERE expires <= ?", (now,))
            db.execute("DELETE FROM events WHERE expires <= ?", (now,))
            for table in ("requests", "events"):
                (count,) = db.execute(f"SELECT count(*) FROM {table}").fetchone()
                if count > MAX_ROWS:
                    db.execute(
                        f"DELETE FROM {table} WHERE rowid IN "
                        f"(SELECT rowid FROM {table} ORDER BY expires LIMIT ?)",
                        (count - MAX_ROWS,),
                    )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def forget(self, event_ids: list[str], ping_ids: set[str], dry_run: bool = False) -> int:
        """For an erasure: delete the rows of these (scoped) eventIds and the answers naming these pingIds.

        A row holds no event content in clear, but it is about the person: an
        Idempotency-Key, the SHA-256 of their request's body, the 201 naming
        its pingId; an eventId. How many rows (would) go.
        """
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            # One pass over the answers (pingIds are the server's UUIDs), not one scan per pingId.
            keys = [(key,) for key, answer in db.execute("SELECT key, response FROM requests")
                    if answer and ping_ids.intersection(_UUID.findall(bytes(answer).decode("ascii", "replace")))]
            ids = [(event_id,) for event_id in event_ids]
            if dry_run:
                count = len(keys) + sum(db.execute("SELECT count(*) FROM events WHERE id = ?", i).fetchone()[0]
                                        for i in ids)
            else:
                count = db.executemany("DELETE FROM requests WHERE key = ?", keys).rowcount
                count += db.executemany("DELETE FROM events WHERE id = ?", ids).rowcount
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return count

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            self._local.db = None
            db.close()


class MemcachedState:
    """The state in memcached, shared by every VM that counts limits there."""

    def __init__(self, client: Any, window_seconds: float, clock: Callable[[], float] = time.time) -> None:
        self.client = client  # a pymemcache client (PooledClient or HashClient): untyped
        self.window = int(window_seconds)
        self._clock = clock

    def claim(self, key: str, fingerprint: str) -> Claim:
        name = "collector/idem/" + digest(key)
        pending = f"pending {fingerprint}".encode()
        if self.client.add(name, pending, expire=int(PENDING_SECONDS), noreply=False):
            return Claim("claimed")
        found = self.client.get(name)
        if found is None:  # expired between the two calls: try once more
            if self.client.add(name, pending, expire=int(PENDING_SECONDS), noreply=False):
                return Claim("claimed")
            found = self.client.get(name) or pending
        status, _, rest = found.partition(b" ")
        fingerprint_found, _, response = rest.partition(b" ")
        return Claim(status.decode(), fingerprint_found.decode(), response)

    def complete(self, key: str, fingerprint: str, response: bytes) -> None:
        name = "collector/idem/" + digest(key)
        done = b"done " + fingerprint.encode() + b" " + response
        self.client.set(name, done, expire=expire(self.window, self._clock()), noreply=False)

    def release(self, key: str) -> None:
        self.client.delete("collector/idem/" + digest(key), noreply=False)

    def stored_events(self, event_ids: list[str]) -> set[str]:
        if not event_ids:
            return set()
        names = {"collector/event/" + digest(event_id): event_id for event_id in event_ids}
        found = self.client.get_many(list(names))
        return {names[name] for name in found}

    def record_events(self, event_ids: list[str]) -> None:
        if event_ids:
            names = {"collector/event/" + digest(i): b"1" for i in event_ids}
            self.client.set_many(names, expire=expire(self.window, self._clock()))

    def forget(self, event_ids: list[str], ping_ids: set[str], dry_run: bool = False) -> int:
        """For an erasure: the entries of these (scoped) eventIds. A request's entry is keyed by its
        Idempotency-Key, which no stored event holds: it expires with the window, unreached."""
        names = ["collector/event/" + digest(event_id) for event_id in event_ids]
        found = list(self.client.get_many(names)) if names else []
        if not dry_run and found:
            self.client.delete_many(found, noreply=False)
        return len(found)

    def close(self) -> None:
        self.client.close()
