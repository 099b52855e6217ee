"""The data directory as the service found it at start-up: never re-created while it runs.

At start-up (in gunicorn's master, before the workers are forked, or at the
first use in a process without one) the data directory is created if missing
and its identity, device and inode, is remembered. After that, whatever
creates a file there (the event writer, dead letters, the SQLite state, the
readiness probe) first checks that the directory at that path is still that
one, and never creates it again:

- renamed or deleted: the path is gone, or is a new directory (new inode);
- its mount lost: the path is the empty mount point on the disk below (another
  device), which the events would fill.

Then writes fail with `DataDirGone` (a 503 for events, an unready `/readyz`)
and start again by themselves as soon as the same directory is back: renamed
back, or the same file system mounted again (same device and inode). A
different directory put in its place (a new, empty file system, a directory
made by hand) is not taken while the service runs: an empty directory where
the data was is far more often a mistake than a wish. A restart takes it.
"""

from __future__ import annotations

import errno
import os
import pwd
import threading
from collections.abc import Iterable
from pathlib import Path

_started: dict[str, tuple[int, int]] = {}
_lock = threading.Lock()


class DataDirGone(FileNotFoundError):
    """The data directory is not the one the service started with."""


def pin(path: Path | str) -> None:
    """At start-up: create the data directory if it is missing, and remember which directory it is.

    A path pinned already (a SIGHUP re-reading the config, a worker of the
    master that pinned it) is left as it was pinned.
    :raises OSError: if it cannot be created.
    """
    key = os.path.abspath(path)
    with _lock:
        if key not in _started:
            os.makedirs(key, exist_ok=True)
            _started[key] = _identity(key)


def check(path: Path | str) -> None:
    """Make sure `path` is still the directory found at start-up (pinned now if it was not yet).

    :raises DataDirGone: if it is gone or another directory is in its place.
    """
    key = os.path.abspath(path)
    expected = _started.get(key)
    if expected is None:
        pin(key)
        return
    try:
        found = _identity(key)
    except (FileNotFoundError, NotADirectoryError):
        found = None
    if found != expected:
        raise DataDirGone(
            errno.ENOENT,
            "the data directory is gone or is not the one the service started with "
            "(renamed? its mount lost?); it is not re-created, writes resume when it is back",
            key,
        )


def is_there(path: Path | str) -> bool:
    """Whether `check(path)` passes."""
    try:
        check(path)
    except OSError:
        return False
    return True


def _identity(path: str) -> tuple[int, int]:
    stat = os.stat(path)
    return stat.st_dev, stat.st_ino


def owner_problem(path: Path | str) -> str | None:
    """Why this process should not write into the data directory `path`: it is not the directory's owner.

    The service runs as the directory's owner (`collector`, docs/deploying.md),
    and so do its timers. A command run as another user (`sudo collector events
    forget`, by habit) would leave files of that user there: an event file
    rewritten by an erasure that the service can no longer compress, a ledger or
    an idempotency state the timers can no longer write. So such a command says
    so in one line and does nothing. None: the owner (or no directory yet, made by this process).
    """
    try:
        owner = os.stat(path).st_uid
    except OSError:
        return None
    if owner == os.geteuid():
        return None
    try:
        name = pwd.getpwuid(owner).pw_name
    except KeyError:
        name = str(owner)
    return (
        f"{path} belongs to user {name}, and this command runs as uid {os.geteuid()}: run it as {name} "
        f"(sudo -u {name} ...), or the files it makes there could not be read or replaced by the service"
    )


def each_once(data_dirs: Iterable[Path]) -> list[Path]:
    """Several data directories read as one (`--data-dir A B`): one named twice (`data ./data`, or through a
    link to it) is read once, where first named."""
    unique: dict[Path, Path] = {}
    for data_dir in data_dirs:
        unique.setdefault(Path(data_dir).resolve(), Path(data_dir))
    return list(unique.values())
