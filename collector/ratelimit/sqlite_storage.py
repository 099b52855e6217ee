"""The `sqlite://` storage of the limits: one file in the data directory that every worker of a VM shares.

`memory://` counts inside one process, so exact limits there mean one worker
and one core. This storage keeps the counters in a SQLite file in WAL mode
(`.ratelimit.sqlite3` in COLLECTOR_DATA_DIR), so the default set-up runs a
worker per core with limits as exact as memcached's, and no server to run.
memcached is needed only when several VMs share limits.

A subclass of limits' `Storage`, which is how limits lets a storage be added:
the class registers its `collector+sqlite` scheme with limits when it is
defined, and flask-limiter builds it from `storage_uri()`'s URI (see
storage.py) with the file's path in `storage_options`.

The fixed window only (settings refuse the other strategies with it): a
window's count and reset time are one row, and a hit is one statement that
SQLite runs atomically across processes (an UPSERT ... RETURNING: no read
then write). Each thread has its own connection. The file holds counts only:
deleting it resets the limits (as a restart does with memory://), and each
worker notices and starts a new one. Failures (the file locked past
COLLECTOR_RATE_LIMIT_TIMEOUT, a full disk) go to the same outage policy as
memcached's (outage.py).
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from pathlib import Path
from time import monotonic, sleep
from typing import Any

from limits.storage import Storage

from .. import datadir, sqlitefiles
from .outage import StorageOutage

SCHEME = "collector+sqlite"
FILE_NAME = ".ratelimit.sqlite3"
# Expired windows are deleted after this many hits of a worker: the table
# holds about one row per client active in the last window.
_PRUNE_EVERY = 1000
# How long a statement that found the file locked by another worker waits
# before it tries again. SQLite's own busy handler sleeps a millisecond or
# more at a time, which showed as a p99 of twice memcached's under load; a hit
# holds the lock for some 20 µs.
_RETRY_SECONDS = 0.0002

_HIT = """
INSERT INTO windows (key, count, expires) VALUES (:key, :amount, :expires)
ON CONFLICT (key) DO UPDATE SET
    count = CASE WHEN windows.expires <= :now THEN :amount ELSE windows.count + :amount END,
    expires = CASE WHEN windows.expires <= :now THEN :expires ELSE windows.expires END
RETURNING count, expires
"""


class CollectorSQLiteStorage(Storage):
    STORAGE_SCHEME = [SCHEME]  # noqa: RUF012 - a list because limits declares it so; never mutated

    def __init__(
        self, uri: str, path: str = "", outage: StorageOutage | None = None, timeout: float = 5.0, **_: Any
    ) -> None:
        super().__init__(uri)
        if not path:
            raise ValueError("CollectorSQLiteStorage needs the file's path (storage_options path=...)")
        self.path = Path(path)
        self.outage = outage or StorageOutage("sqlite://", "open")
        self.timeout = timeout
        self._local = threading.local()
        self._hits = 0
        # The threads of one worker take turns here rather than in SQLite's
        # lock, where a waiter sleeps; only the other workers are waited for.
        self._turn = threading.Lock()

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return (sqlite3.Error, OSError)

    # -- the connection -----------------------------------------------------

    def _db(self) -> sqlite3.Connection:
        local = self._local
        db = getattr(local, "db", None)
        if db is not None and local.inode == sqlitefiles.inode(self.path):
            return db
        if db is not None:
            db.close()  # the file was deleted or replaced: count afresh in the new one
        datadir.check(self.path.parent)  # never re-created: see collector/datadir.py
        db = sqlitefiles.connect(self.path, timeout=self.timeout)
        db.execute("CREATE TABLE IF NOT EXISTS windows (key TEXT PRIMARY KEY, count INTEGER, expires REAL)")
        db.execute("CREATE INDEX IF NOT EXISTS windows_expiry ON windows (expires)")
        db.execute("PRAGMA busy_timeout = 0")  # waits are _run's, in short steps
        local.db, local.inode, local.last = db, sqlitefiles.inode(self.path), {}
        return db

    def _run(self, sql: str, parameters: Any = ()) -> Any:
        """The first row `sql` answers, retried in short steps while another worker holds the file's lock.

        :raises sqlite3.Error: for anything but a lock, or a lock held past the timeout.
        """
        deadline = monotonic() + self.timeout
        with self._turn:
            db = self._db()
            while True:
                try:
                    return db.execute(sql, parameters).fetchone()
                except sqlite3.OperationalError as error:
                    # "database is locked" (SQLITE_BUSY): nothing was changed, so trying again is safe.
                    if "locked" not in str(error) or monotonic() >= deadline:
                        raise
                sleep(_RETRY_SECONDS)

    def close(self) -> None:
        """Close this thread's connection (a stopping worker, tests)."""
        db = getattr(self._local, "db", None)
        if db is not None:
            self._local.db = None
            db.close()

    # -- the check: a failure goes to the outage policy ----------------------

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        try:
            count, expires = self._run(_HIT, {"key": key, "amount": amount, "expires": now + expiry, "now": now})
        except (sqlite3.Error, OSError) as error:
            return self.outage.check_failed(error, 0)  # 0: an unchecked request passes any limit (`open`)
        self.outage.recovered()
        self._local.last[key] = [count, expires]
        self._maybe_prune(now)
        return count

    def decr(self, key: str, amount: int = 1) -> int:
        """Take `amount` back from a window's count (a refused request, see limiter.py); the count after it."""
        row = self._run(
            "UPDATE windows SET count = max(count - ?, 0) WHERE key = ? RETURNING count, expires", (amount, key)
        )
        if row is None:
            return 0
        self._local.last[key] = [row[0], row[1]]
        return row[0]

    # -- reads for the headers: this thread's last answer, else the file ------

    # limits reads a window for the headers as get() then get_expiry(), right
    # after the hit: each is answered once from this thread's own hit (the
    # count it was given, as memcached's storage does), later reads ask the file.

    def get(self, key: str) -> int:
        count, _ = self._window(key, 0)
        return count

    def get_expiry(self, key: str) -> float:
        _, expires = self._window(key, 1)
        return expires

    def _window(self, key: str, part: int) -> tuple[int, float]:
        now = time.time()
        last = getattr(self._local, "last", None)
        remembered = None if last is None else last.get(key)
        if last is not None and remembered is not None and remembered[part] is not None:
            found = tuple(remembered)
            remembered[part] = None
            if remembered == [None, None]:
                del last[key]
        else:
            found = self._run("SELECT count, expires FROM windows WHERE key = ?", (key,))
        if found is None or found[1] <= now:
            return 0, now
        return found

    def check(self) -> bool:
        try:
            self._run("SELECT 1")
        except (sqlite3.Error, OSError):
            return False
        return True

    def reset(self) -> int | None:
        (count,) = self._run("SELECT count(*) FROM windows")
        self._run("DELETE FROM windows")
        self._local.last = {}
        return count

    def clear(self, key: str) -> None:
        self._run("DELETE FROM windows WHERE key = ?", (key,))
        self._local.last.pop(key, None)

    def _maybe_prune(self, now: float) -> None:
        # Counted without a lock: a lost update only delays a prune.
        self._hits += 1
        if self._hits < _PRUNE_EVERY:
            return
        self._hits = 0
        self._local.last = {}
        with contextlib.suppress(sqlite3.Error):  # the next prune will do; the hit itself was counted
            self._run("DELETE FROM windows WHERE expires <= ?", (now,))

