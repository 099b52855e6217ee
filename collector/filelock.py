"""An exclusive flock on a lock file, for the block: how the collector's processes and commands take turns.

The lock is the kernel's (flock on an open file), so it goes with the process
that held it: a killed process never leaves it taken. The file holds nothing;
it is made if missing.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable, Iterator
from pathlib import Path


@contextlib.contextmanager
def flocked(
    path: Path, *, flags: int = os.O_WRONLY, mode: int = 0o640, busy: Callable[[], Exception] | None = None
) -> Iterator[None]:
    """Hold the lock on `path` for the block, waiting for whoever holds it; with `busy`, never waiting:
    `busy()` is raised when another holds it.

    `flags` opens the file (flock needs no write access: `os.O_RDONLY` lets users who may only read it take
    turns too); `mode` is the new file's.
    """
    fd = os.open(path, flags | os.O_CREAT | os.O_CLOEXEC, mode)
    try:
        if busy is None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        else:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise busy() from None
        yield
    finally:
        os.close(fd)
