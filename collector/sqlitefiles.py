"""SQLite files that the workers of one VM share: opened in WAL mode, safely when they race.

The idempotency state keeps one in the data directory. SQLite's own locking
makes their transactions atomic across processes and threads; the one place
where it does not wait its busy timeout out is the switch of a new file to WAL:
a connection that races another's switch gets "database is locked" at once.
The first requests of a new service arrive together, so `connect` retries that
switch until the timeout, as the busy timeout does for everything else.

In WAL mode SQLite maps the `-shm` file into memory and writes to it through
the mapping. A page of it without a block on disk (a sparse file: an outside
truncate, SQLite's own growth on a file system of 1 KiB blocks) gets one when
first written; on a full disk the kernel cannot give it, and answers with
SIGBUS, which kills the worker outright instead of letting the outage policy
answer. So `connect` first gives the `-shm` real blocks (`posix_fallocate`,
which keeps what is there) and turns a full disk into an `OSError` that the
callers' outage policies handle. Neither `PRAGMA mmap_size=0` (the database
file only, not the -shm) nor exclusive locking / the `unix-excl` VFS (the -shm
in process memory: the workers could no longer share the file) fits here.
What remains: the -shm of a live connection truncated from outside, or SQLite
growing it past `SHM_RESERVE_BYTES` (more than 4,096 WAL frames unchecked) on a
full disk of 1 KiB blocks.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import time
from pathlib import Path

TIMEOUT_SECONDS = 10.0
_RETRY_SECONDS = 0.005
# One wal-index region of the -shm: what SQLite maps first, for 4,096 WAL frames.
SHM_RESERVE_BYTES = 32768


def connect(path: Path, timeout: float = TIMEOUT_SECONDS) -> sqlite3.Connection:
    """An autocommit connection to `path` in WAL mode, usable from any thread (one at a time).

    :raises sqlite3.Error: if the file cannot be opened, or stays locked for `timeout` seconds.
    :raises OSError: if its -shm cannot have its blocks (a full disk).
    """
    reserve_shm(path)
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


def reserve_shm(path: Path) -> None:
    """Give `path`'s -shm file blocks on disk for SHM_RESERVE_BYTES, or more if it is larger.

    Allocating keeps every byte that is there (holes read as zeros, and so do
    new blocks), so SQLite cannot tell, whether another process uses it or not.
    :raises OSError: ENOSPC (or EDQUOT) when the disk cannot give them.
    """
    fd = os.open(f"{path}-shm", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        os.posix_fallocate(fd, 0, max(os.fstat(fd).st_size, SHM_RESERVE_BYTES))
    except OSError as error:
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            raise OSError(error.errno, f"no room for SQLite's shared memory file {path}-shm") from None
        # EOPNOTSUPP and the like: a file system that cannot reserve; SQLite's own growth it is.
    finally:
        os.close(fd)
