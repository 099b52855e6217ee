"""One erasure at a time, and only in a collector's data directory.

Two erasures at once would each rewrite the same files from what the other is
replacing; the second is refused, never queued (an operator should know that
one is running). The lock is an `flock` on `.erasure.lock` in the data
directory: the kernel drops it when its process dies, so a crashed erasure
never leaves a stale lock behind.

The data directory is checked first, before anything is created in it: a
typo (`--data-dir /`, a home directory) must not get a lock file, a key and an
audit log, let alone have its files rewritten. A directory is the collector's
when it holds something only the collector writes there.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from .. import filelock
from ..deadletters import letters
from ..store import datafiles, generation, maintenance

LOCK_FILE = ".erasure.lock"
AUDIT_LOG = "erasures.log"
# What the collector writes in its data directory (besides `events-*`): upkeep, dead letters, the
# idempotency and rate-limit SQLite files, torn lines, an earlier erasure.
_SIGNS = (
    maintenance.LOCK_NAME, letters.DIRECTORY, ".idempotency.sqlite3", ".ratelimit.sqlite3",
    datafiles.QUARANTINE_DIR, generation.FILE_NAME, AUDIT_LOG, LOCK_FILE,
)


class Refused(Exception):
    """An erasure that must not run: another holds the lock (`busy`), or the directory is not a collector's."""

    def __init__(self, message: str, busy: bool = False) -> None:
        super().__init__(message)
        self.busy = busy


def check_data_dir(data_dir: Path) -> None:
    """:raises Refused: `data_dir` holds nothing the collector writes."""
    try:
        names = os.listdir(data_dir)
    except OSError as error:
        raise Refused(f"cannot read the data directory {data_dir}: {error.strerror}") from None
    if any(name.startswith("events-") for name in names) or any(sign in names for sign in _SIGNS):
        return
    raise Refused(
        f"{data_dir} is not a collector data directory (no events-* files, no {maintenance.LOCK_NAME}, no "
        f"{letters.DIRECTORY}/): nothing is erased or written there; check --data-dir or COLLECTOR_DATA_DIR"
    )


@contextlib.contextmanager
def held(data_dir: Path) -> Iterator[None]:
    """Hold the data directory's erasure lock for the block.

    :raises Refused: another erasure holds it (never waited for).
    """
    path = Path(data_dir) / LOCK_FILE
    running = f"another `collector events forget` is running: it holds the lock on {path}"
    # It holds nothing: readable by all, and read-only is enough for flock, so another user can take it.
    with filelock.flocked(path, flags=os.O_RDONLY, mode=0o644, busy=lambda: Refused(running, busy=True)):
        yield


@contextlib.contextmanager
def no_replay(data_dir: Path) -> Iterator[None]:
    """Hold the dead letters' replay lock too: a replay running beside an erasure could store again
    the letters the erasure deletes.

    :raises Refused: a `collector deadletter replay` is running.
    """
    if not (Path(data_dir) / letters.DIRECTORY).is_dir():
        yield
        return
    try:
        with letters.replay_lock(data_dir):
            yield
    except letters.ReplayRunning as error:
        raise Refused(f"{error}; run the erasure when it is done", busy=True) from None
