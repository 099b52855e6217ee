"""Asking the running service's writers to finish their open files, from another process.

A command beside the service (`collector events forget`) must see every event
in a finished file it can rewrite: the `.open` files belong to the workers
appending to them. So it asks every writer to finish its file, as rotation
does, and waits until every file that was open when it asked is finished:

1. `open_files(data_dir)`: first the `.open` files no live process holds (a
   worker or a whole service that died) are repaired and finished with the
   start-up recovery's own code (`datafiles.recover_one`: a torn last line
   cut off into `quarantine/`); then the `.open` files a writer holds (its
   `flock`) are listed. With the service stopped, the list is empty.
   Finishing an orphan needs write access to it (the service's user, or
   root); a command that lacks it logs why, and the file stays listed, so
   the wait in 4 fails rather than pass over it.
2. `ask_workers_to_finish(data_dir)`: the number in `data/.finish-request`
   (a generation, 0 when the file is missing) is raised by one, the file
   replaced by a rename, so a reader never sees half a number. Asks take
   turns on `data/.finish-request.lock`.
3. Each writer's background thread (the one that rotates idle files and runs
   the timed fsync, every min(COLLECTOR_FSYNC_SECONDS, 1 s)) reads that
   number; on a new one it finishes its open file (reason `asked`) under the
   writer's lock, as rotation does: a request in flight waits for that
   moment, none is refused and no append is torn (a request's lines are one
   `write()` under the same lock). Its next append starts a new file. A
   writer remembers the number it found at start, so it answers only asks
   made while it runs.
4. `wait_for_finished(data_dir, files, timeout)` polls until none of `files`
   is there under its `.open` name. A file whose writer dies meanwhile
   (nobody holds it) is finished by the wait itself, with the recovery's code
   as in 1; it is then as if the worker had finished it. False if some file
   is still open at the timeout (a writer whose background thread is stuck,
   its data directory gone): the caller must not treat it as finished.

In that order: list, ask, wait. A file listed after the ask may be a new one,
opened once its writer had answered, which nobody will finish; the wait for
it would time out. Events appended after the ask go to new `.open` files; a
caller that must see them asks again.

Why a file read by the background thread, rather than:
- a signal to the gunicorn master relayed to the workers: it needs the
  master's pid and the service's user; the master has no spare signal to
  relay (HUP, USR1, USR2, TTIN, TTOU, WINCH all mean something to it); and
  a Python handler runs in the worker's main thread between bytecodes,
  where taking the writer's lock can deadlock, so it could only set a flag
  for a thread to act on: that thread is the background one anyway;
- a check on each append (even a stat cached for N ms): it answers a busy
  worker sooner, but not an idle one, which the background thread must
  serve anyway; and it puts a cost, however small, on every request.
The file is only read by the service, so any user who may write the data
directory can ask; it works with any number of workers, masters or VMs
(each asks only the writers of its own data directory); and the append path
does not change at all. The cost is one open-read-close of a tiny file per
writer and background period (measured in bench/finishing.py, see
docs/stored-lines-and-files.md), and an answer within about a second.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from . import datafiles

__all__ = ["ask_workers_to_finish", "open_files", "requested", "wait_for_finished"]

logger = logging.getLogger(__name__)

REQUEST_NAME = ".finish-request"
_LOCK_NAME = REQUEST_NAME + ".lock"
_TEMP_NAME = REQUEST_NAME + ".tmp"
_POLL_SECONDS = 0.05
_READABLE = 0o644


def requested(data_dir: Path) -> int | None:
    """The generation last asked for in `data_dir`: 0 if never, None if it cannot be read now."""
    try:
        fd = os.open(data_dir / REQUEST_NAME, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return 0
    except OSError:
        return None  # unreadable: the writer keeps what it knew and looks again later
    try:
        return int(os.read(fd, 32))  # os.read, not open(): a few µs, once per background period
    except (OSError, ValueError):
        return None  # damaged (or not a regular file): as unreadable
    finally:
        os.close(fd)


def open_files(data_dir: Path) -> list[Path]:
    """The event files the data directory's live writers have open now, after finishing orphaned ones."""
    listed = []
    for path in _open_paths(data_dir):
        if _holds_events(path) and not _is_held(path):
            _finish_orphan(path, data_dir)
        if _is_held(path) or _holds_events(path):
            listed.append(path)  # held, or an orphan that could not be finished: must be waited for
    return listed


def ask_workers_to_finish(data_dir: Path) -> int:
    """Ask every writer of `data_dir` to finish its open file; returns the generation asked for.

    :raises OSError: the data directory is missing or not writable (it is never created here).
    """
    with _held_lock(data_dir / _LOCK_NAME):
        generation = (requested(data_dir) or 0) + 1
        temp = data_dir / _TEMP_NAME
        temp.unlink(missing_ok=True)  # a crashed ask's, maybe another user's: not opened for writing
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, _READABLE)
        try:
            os.fchmod(fd, _READABLE)  # whatever the asker's umask: the service may be another user
            datafiles.write_all(fd, b"%d\n" % generation)
        finally:
            os.close(fd)
        os.replace(temp, data_dir / REQUEST_NAME)
    return generation


def wait_for_finished(data_dir: Path, open_files: Iterable[Path], timeout: float) -> bool:
    """Whether every one of `open_files` is finished within `timeout` seconds (orphans finished here)."""
    deadline = time.monotonic() + timeout
    remaining = list(open_files)
    while True:
        remaining = [path for path in remaining if _still_open(path, data_dir)]
        if not remaining:
            return True
        if time.monotonic() >= deadline:
            logger.warning(
                "%d files were not finished within %.1f s: %s",
                len(remaining),
                timeout,
                ", ".join(path.name for path in remaining),
            )
            return False
        time.sleep(_POLL_SECONDS)


def _open_paths(data_dir: Path) -> list[Path]:
    if not data_dir.is_dir():
        raise FileNotFoundError(errno.ENOENT, "no such data directory", str(data_dir))
    return [path for path in datafiles.data_files(data_dir) if path.name.endswith(datafiles.OPEN_SUFFIX)]


def _still_open(path: Path, data_dir: Path) -> bool:
    if not os.path.lexists(path):
        return False
    if not _is_held(path):
        # Its writer is gone: it had the file (and events in it) when it was listed.
        _finish_orphan(path, data_dir)
    return os.path.lexists(path)


def _finish_orphan(path: Path, data_dir: Path) -> None:
    try:
        datafiles.recover_one(path, data_dir, sync=True)
    except OSError as error:
        logger.error("could not finish the abandoned file %s: %s", path.name, error)


def _holds_events(path: Path) -> bool:
    # An empty `.open` nobody holds may be a file a writer has just created and
    # not yet locked: never taken for an orphan (it holds no event anyway).
    try:
        return path.stat().st_size > 0
    except FileNotFoundError:
        return False


def _is_held(path: Path) -> bool:
    """Whether a live writer holds `path` (its `flock`); read-only, so any user who may read it can tell."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError as error:
        if error.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            return True
        raise
    finally:
        os.close(fd)  # releases a lock taken just now
    return False


@contextmanager
def _held_lock(lock_path: Path) -> Iterator[None]:
    # Read-only: flock needs no write access, so asks of different users take turns too.
    fd = os.open(lock_path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, _READABLE)
    try:
        with suppress(PermissionError):  # made by another user, who made it readable
            os.fchmod(fd, _READABLE)
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
