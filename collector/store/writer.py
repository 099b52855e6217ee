"""The JSON-lines store: appends a request's lines, rotates, and never half-writes.

Each process writes its own file (see `datafiles` for names), so workers never
share a descriptor and never interleave: no cross-process lock is needed, and
rotation is a private matter of each process. Threads of one process share the
file under one lock, held for a request's single `write()` and for rotation.

A request's lines go out in one `write()`. If the disk fills up part-way, the
file is cut back to where the request started, so no partial line remains and
the client gets 503 and resends. If the file is deleted from outside while open
(an operator, a careless logrotate), its content is copied to a new file, so
acknowledged events are not lost with it; if it is moved away, the moved file
is complete and the writer starts a new one.

A failed fsync is never retried: after one, the kernel may have dropped the
dirty pages and a second fsync can succeed without them. The writer then calls
itself `broken`, refuses every later request with 503, and the gunicorn config
restarts the worker (see `post_request` in gunicorn.conf.py).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path

from . import datafiles
from .. import datadir
from ..errors import STORAGE_UNAVAILABLE, CollectorError
from ..ops.metrics import BYTES_WRITTEN, FILES_FINISHED, FSYNC_FAILURES

logger = logging.getLogger(__name__)

FSYNC_MODES = ("always", "interval", "never")


class EventWriter:
    """Appends whole lines to this process's current file."""

    def __init__(
        self,
        data_dir: Path,
        rotate_bytes: int,
        rotate_seconds: float,
        host_name: str,
        fsync: str = "interval",
        fsync_seconds: float = 1.0,
        clock: Callable[[], float] = time.time,
        on_finish: Callable[[], None] = lambda: None,
        on_stop: Callable[[], None] = lambda: None,
    ) -> None:
        if fsync not in FSYNC_MODES:
            raise ValueError(f"fsync must be one of {FSYNC_MODES}")
        self.data_dir = Path(data_dir)
        self.rotate_bytes = rotate_bytes
        self.rotate_seconds = rotate_seconds
        self.host_name = host_name
        self.fsync = fsync
        self.fsync_seconds = fsync_seconds
        self._clock = clock
        self._on_finish = on_finish  # e.g. wake the compressor: a file is ready for it
        self._on_stop = on_stop  # e.g. compress the files finished at stop before the process exits
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._path: Path | None = None
        self._size = 0
        self._opened_at = 0.0
        self._sequence = 0
        self._pid: int | None = None  # process that owns the state above
        self._failing = False
        self._dirty = False
        self.broken = False  # a failed fsync: nothing more is written by this process

    # -- public -----------------------------------------------------------

    def append(self, lines: Sequence[bytes]) -> None:
        """Store whole lines, all or none.

        :raises CollectorError: STORAGE_UNAVAILABLE; nothing of `lines` was kept.
        """
        data = b"".join(lines)
        if not data:
            return  # every event of the request was a duplicate: nothing to write
        with self._lock:
            if self.broken:
                raise CollectorError(STORAGE_UNAVAILABLE, "this worker cannot store events any more; please retry")
            try:
                self._write(data)
            except OSError as error:
                if not isinstance(error, datadir.DataDirGone):
                    self._abandon_file()  # else kept open, to go on with once the directory is back
                self._report_failure(error)
                raise CollectorError(
                    STORAGE_UNAVAILABLE,
                    "events could not be stored right now; nothing was kept, please retry"
                ) from error
            if self._failing:
                self._failing = False
                logger.info("storage recovered: writing to %s", self._path)
        BYTES_WRITTEN.inc(len(data))

    def start(self) -> None:
        """Repair files left by dead processes and start the background work, in this process.

        Done at worker boot so that start-up repairs the store before any request;
        otherwise the first write does it.
        """
        with self._lock:
            if self._pid != os.getpid():
                try:
                    self._start_in_this_process()
                except OSError as error:
                    # The data directory is broken as this worker boots (another
                    # worker answers 503 for it already): the worker starts all
                    # the same, answers 503 too, and its first write tries again.
                    self._report_failure(error)

    def rotate_if_due(self) -> None:
        """Finish the current file if it is too old, even with no request coming."""
        with self._lock:
            if self._fd is not None and self._pid == os.getpid() and self._age() >= self.rotate_seconds:
                if datadir.is_there(self.data_dir):  # else finished once the directory is back
                    self._finish_file("rotated")

    def sync_if_due(self) -> None:
        """fsync what was written since the last call (COLLECTOR_FSYNC=interval)."""
        with self._lock:
            if not self._dirty or self._fd is None or self._pid != os.getpid():
                return
            self._dirty = False
            fd = os.dup(self._fd)  # fsync outside the lock: writers must not wait for the disk
        try:
            self._fsync(fd)
        finally:
            os.close(fd)

    def _background(self) -> None:
        """Runs in each process that writes: timed fsync and rotation of idle files."""
        period = min(self.fsync_seconds, 1.0)
        while self._pid == os.getpid():
            time.sleep(period)
            try:
                if self.fsync == "interval":
                    self.sync_if_due()
                self.rotate_if_due()
            except OSError as error:
                logger.error("background sync or rotation failed: %s", error)

    def close(self) -> None:
        """Finish the current file (clean shutdown), then let `on_stop` see to the finished files."""
        self._close_file()
        if self._pid == os.getpid():
            self._on_stop()

    def _close_file(self) -> None:
        with self._lock:
            if self._fd is None or self._pid != os.getpid():
                return
            if self.broken:
                # Not finished as if it were safe: left `.open` for the next
                # worker's recovery, which checks it and fsyncs it again.
                self._close_fd()
                return
            path = self._path
            try:
                self._check_file_still_ours()  # a file deleted after the last request is salvaged
                if self._fd is not None:
                    self._finish_file("stopped")
            except OSError as error:
                # The store failed under a worker that had not written since
                # (a disk failing, the directory gone: another worker met it
                # first): whatever is there stays `.open`, and the next start's
                # recovery checks it and fsyncs it again.
                logger.error("could not finish %s at stop (%s); it is left for recovery", path, _cause(error))
                self._close_fd()

    # -- the write path ----------------------------------------------------

    def _write(self, data: bytes) -> None:
        if self._pid != os.getpid():
            self._start_in_this_process()
        datadir.check(self.data_dir)  # before the file: a file of a directory renamed away stays ours
        if self._fd is not None:
            self._check_file_still_ours()
        if self._fd is not None and self._rotation_due(len(data)):
            self._finish_file("rotated")
        if self._fd is None:
            self._open_file()
        start = self._size
        try:
            datafiles.write_all(self._fd, data)
            self._size = start + len(data)
            if os.fstat(self._fd).st_nlink == 0:
                self._salvage_deleted_file()
            if self.fsync == "always":
                self._fsync(self._fd)
        except OSError:
            # All or nothing: the client gets 503 and resends, so none of
            # this request may stay behind.
            self._cut_back(start)
            self._size = start
            raise
        self._dirty = True

    def _rotation_due(self, incoming: int) -> bool:
        too_big = self._size > 0 and self._size + incoming > self.rotate_bytes
        return too_big or self._age() >= self.rotate_seconds

    def _age(self) -> float:
        return self._clock() - self._opened_at

    def _cut_back(self, size: int) -> None:
        """Remove a partial write so the file ends with a whole line again."""
        try:
            os.ftruncate(self._fd, size)
        except OSError as error:
            # The next start-up's recovery cuts the torn line and quarantines it.
            logger.error("could not cut back a partial write in %s: %s", self._path, error)

    # -- files -------------------------------------------------------------

    def _start_in_this_process(self) -> None:
        # A forked child (gunicorn --preload) must not reuse its parent's file.
        self._fd, self._path, self._size = None, None, 0
        self._sequence = 0
        datadir.check(self.data_dir)
        recovered = datafiles.recover_abandoned(self.data_dir, sync=self.fsync != "never")
        FILES_FINISHED.labels(reason="recovered").inc(len(recovered))
        self._pid = os.getpid()
        self._dirty = False
        threading.Thread(target=self._background, name="collector-writer", daemon=True).start()
        # Files finished by an earlier run or just recovered may await compression or retention.
        self._on_finish()

    def _open_file(self) -> None:
        datadir.check(self.data_dir)
        self._sequence += 1
        now = self._clock()
        name = datafiles.open_name(
            datetime.fromtimestamp(now, timezone.utc), self.host_name, self._pid, self._sequence
        )
        path = self.data_dir / name
        self._fd, self._path, self._size, self._opened_at = datafiles.create_locked(path), path, 0, now

    def _check_file_still_ours(self) -> None:
        try:
            same = os.stat(self._path).st_ino == os.fstat(self._fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return
        if os.fstat(self._fd).st_nlink == 0:
            self._salvage_deleted_file()
        else:
            logger.warning("%s was moved away while open; starting a new file", self._path)
            self._close_fd()

    def _salvage_deleted_file(self) -> None:
        """Copy a file deleted from outside into a new file, so no stored event is lost.

        If the copy cannot be made yet (the directory is gone too), the deleted
        file stays open as the current one and the next request tries again.
        """
        old_fd, old_path, size = self._fd, self._path, self._size
        content = os.pread(old_fd, size, 0)
        self._fd = None
        try:
            self._open_file()
            datafiles.write_all(self._fd, content)
        except OSError:
            if self._fd is not None:
                os.ftruncate(self._fd, 0)
                self._finish_file("failed")  # empty: removed
            self._fd, self._path, self._size = old_fd, old_path, size
            raise
        self._size = len(content)
        os.close(old_fd)
        logger.warning(
            "%s was deleted while open; copied its %d bytes to %s", old_path, size, self._path
        )

    def _finish_file(self, reason: str) -> None:
        """Rename the open file to its finished name; empty files are removed instead.

        `reason` labels collector_files_finished_total: rotated, stopped or failed.
        """
        path, sync = self._path, self.fsync != "never"
        try:
            if self._size == 0:
                os.unlink(path)
            else:
                if sync:
                    self._fsync(self._fd)
                # Renamed while still locked, so no recovery can race for it.
                os.rename(path, datafiles.finished_path(path))
                FILES_FINISHED.labels(reason=reason).inc()
                if sync:
                    datafiles.fsync_directory(self.data_dir)
                self._on_finish()
        finally:
            self._close_fd()

    def _abandon_file(self) -> None:
        """After a failure, finish what is there if possible and start afresh next time."""
        if self._fd is None:
            return
        if self.broken:
            self._close_fd()  # left `.open` for the recovery of the worker that replaces this one
            return
        if os.fstat(self._fd).st_nlink == 0:
            return  # deleted from outside: kept open for `_salvage_deleted_file`
        try:
            self._finish_file("failed")
        except OSError as error:
            logger.error("could not finish %s after a failure: %s", self._path, error)

    def _close_fd(self) -> None:
        fd, self._fd, self._path, self._size = self._fd, None, None, 0
        if fd is not None:
            os.close(fd)

    def _fsync(self, fd: int) -> None:
        try:
            os.fsync(fd)
        except OSError as error:
            FSYNC_FAILURES.inc()
            if not self.broken:
                self.broken = True
                logger.error(
                    "fsync of %s failed: %s; this worker refuses events from now on and restarts",
                    self._path,
                    _cause(error),
                )
            raise

    def _report_failure(self, error: OSError) -> None:
        # Once per outage: a full disk must not flood the log with one line per request.
        if not self._failing:
            self._failing = True
            logger.error(
                "cannot store events in %s: %s; answering 503 until it works again",
                self.data_dir,
                _cause(error),
            )


def _cause(error: OSError) -> str:
    """What went wrong, as the OS says it (ENOSPC: 'No space left on device'), or as `datadir` does."""
    return error.strerror or (os.strerror(error.errno) if error.errno else str(error))
