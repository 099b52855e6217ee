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
answer. So before a process first connects to a file, `connect` gives its
`-shm` real blocks (`posix_fallocate`, which keeps what is there), and turns a
full disk into an `OSError` that the callers' outage policies handle. Neither
`PRAGMA mmap_size=0` (the database file only, not the -shm) nor exclusive
locking / the `unix-excl` VFS (the -shm in process memory: the workers could
no longer share the file) fits here.
What remains: a -shm made sparse after a process first connected (an outside
truncate under a live connection; SQLite's own growth on a file system of
1 KiB blocks, where the byte it writes per 4 KiB page does not fill the page)
on a full disk.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import threading
import time
from pathlib import Path

TIMEOUT_SECONDS = 10.0
_RETRY_SECONDS = 0.005
# One wal-index region of the -shm: what SQLite maps first, for 4,096 WAL frames.
SHM_RESERVE_BYTES = 32768
# The files whose -shm this process reserved (process id, path): see `_reserve_shm_once`.
_reserved: set[tuple[int, str]] = set()
_reserving = threading.Lock()


def connect(path: Path, timeout: float = TIMEOUT_SECONDS) -> sqlite3.Connection:
    """An autocommit connection to `path` in WAL mode, usable from any thread (one at a time).

    :raises sqlite3.Error: if the file cannot be opened, or stays locked for `timeout` seconds.
    :raises OSError: if its -shm cannot have its blocks (a full disk).
    """
    _reserve_shm_once(path)
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


def _reserve_shm_once(path: Path) -> None:
    """`reserve_shm` before this process's first connection to `path`, and never after it.

    Closing any descriptor of a file drops every POSIX lock the process holds
    on it: reserving while a connection of this process (another thread's) is
    open would drop SQLite's lock on the -shm, and another process, finding it
    unlocked, would truncate the -shm under that connection (SIGBUS again).
    """
    with _reserving:
        key = (os.getpid(), os.path.abspath(path))
        if key not in _reserved:
            reserve_shm(path)
            _reserved.add(key)


def reserve_shm(path: Path) -> None:
    """Give `path`'s -shm file blocks on disk for SHM_RESERVE_BYTES, or more if it is larger.

    Allocating keeps every byte that is there (holes read as zeros, and so do
    new blocks), so SQLite cannot tell (whether or not another process has it open).
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
