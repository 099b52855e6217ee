"""SQLite files that the workers of one VM share: opened in WAL mode, safely when they race.

The idempotency state keeps one in the data directory. SQLite's own locking
makes their transactions atomic across processes and threads; the one place
where it does not wait its busy timeout out is the switch of a new file to WAL:
a connection that races another's switch gets "database is locked" at once.
The first requests of a new service arrive together, so `connect` retries that
switch until the timeout, as the busy timeout does for everything else.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

TIMEOUT_SECONDS = 10.0
_RETRY_SECONDS = 0.005


def connect(path: Path, timeout: float = TIMEOUT_SECONDS) -> sqlite3.Connection:
    """An autocommit connection to `path` in WAL mode, usable from any thread (one at a time).

    :raises sqlite3.Error: if the file cannot be opened, or stays locked for `timeout` seconds.
    """
    db = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
    deadline = time.monotonic() + timeout
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            break
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() >= deadline:
                db.close()
                raise
            time.sleep(_RETRY_SECONDS)
    # The state is a cache of what is on disk: after a crash of the machine it
    # may lose its last transactions, never its consistency.
    db.execute("PRAGMA synchronous=NORMAL")
    return db


def inode(path: Path) -> tuple[int, int] | None:
    """The file's identity (device, inode), or None if it is gone: a connection to a deleted
    or replaced file must be opened again, or its workers would count in different files."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_dev, stat.st_ino
