"""The JSON-lines store's writer: appends a request's lines, rotates, and never half-writes.

Each process writes its own file (see `datafiles` for names), so workers never
share a descriptor and never interleave: no cross-process lock is needed, and
rotation is a private matter of each process. Threads of one process share the
file under one lock, held for a request's single `write()` and for rotation.

A request's lines go out in one `write()`. If the disk fills up part-way, the
file is cut back to where the request started, so no partial line remains and
the client gets 503 and resends. The file itself (its name, rotation, and
files moved or deleted from outside) is `openfile`'s job; when data reaches
the disk, and what a failed fsync means (`broken`: 503 until the worker is
restarted), is `fsyncpolicy`'s.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from .. import datadir
from ..errors import STORAGE_UNAVAILABLE, CollectorError
from ..ops.metrics import BYTES_WRITTEN, FILES_FINISHED
from . import datafiles, finishing
from .fsyncpolicy import FSYNC_MODES, FsyncPolicy, cause
from .openfile import OpenFile

__all__ = ["FSYNC_MODES", "EventWriter"]

logger = logging.getLogger(__name__)


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
        self._policy = FsyncPolicy(fsync, fsync_seconds)
        self.data_dir = Path(data_dir)
        self.rotate_bytes = rotate_bytes
        self.rotate_seconds = rotate_seconds
        self.host_name = host_name
        self._on_finish = on_finish  # e.g. wake the compressor: a file is ready for it
        self._on_stop = on_stop  # e.g. compress the files finished at stop before the process exits
        self._lock = threading.Lock()
        self._file = OpenFile(self.data_dir, host_name, self._policy, clock, on_finish)
        self._pid: int | None = None  # process that owns the file and the state below
        self._failing = False
        self._dirty = False
        self._finish_seen: int | None = None  # the last finish request answered (see `finishing`)

    @property
    def fsync(self) -> str:
        """COLLECTOR_FSYNC: always, interval or never."""
        return self._policy.mode

    @property
    def fsync_seconds(self) -> float:
        return self._policy.seconds

    @property
    def broken(self) -> bool:
        """A failed fsync: nothing more is written by this process (gunicorn's post_request restarts it)."""
        return self._policy.broken

    @broken.setter
    def broken(self, value: bool) -> None:
        self._policy.broken = value

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
                logger.info("storage recovered: writing to %s", self._file.path)
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
            due = self._file.fd is not None and self._pid == os.getpid() and self._file.age() >= self.rotate_seconds
            if due and datadir.is_there(self.data_dir):  # else finished once the directory is back
                self._file.finish("rotated")

    def finish_if_asked(self) -> None:
        """Finish the current file if `collector events forget` (see `finishing`) asked since the last look."""
        generation = finishing.requested(self.data_dir)  # outside the lock: requests never wait for it
        with self._lock:
            if generation is None or generation == self._finish_seen or self._pid != os.getpid():
                return
            if self._file.fd is not None and not self.broken:
                if not datadir.is_there(self.data_dir):
                    return  # answered once the directory is back, as rotation is
                self._file.check_still_ours()  # a file deleted from outside is salvaged first
                if self._file.fd is not None:
                    self._file.finish("asked")
            # Broken: the file stays `.open` for recovery once this worker exits.
            self._finish_seen = generation

    def sync_if_due(self) -> None:
        """fsync what was written since the last call (COLLECTOR_FSYNC=interval)."""
        with self._lock:
            if not self._dirty or self._file.fd is None or self._pid != os.getpid():
                return
            self._dirty = False
            # fsync outside the lock: writers must not wait for the disk.
            fd, path = os.dup(self._file.fd), self._file.path
        try:
            self._policy.fsync(fd, path)
        finally:
            os.close(fd)

    def _background(self) -> None:
        """Runs in each process that writes: timed fsync and rotation of idle files."""
        period = min(self._policy.seconds, 1.0)
        while self._pid == os.getpid():
            time.sleep(period)
            try:
                if self._policy.timed:
                    self.sync_if_due()
                self.rotate_if_due()
                self.finish_if_asked()
            except OSError as error:
                logger.error("background sync or rotation failed: %s", error)

    def close(self) -> None:
        """Finish the current file (clean shutdown), then let `on_stop` see to the finished files."""
        self._close_file()
        if self._pid == os.getpid():
            self._on_stop()

    def _close_file(self) -> None:
        with self._lock:
            if self._file.fd is None or self._pid != os.getpid():
                return
            if self.broken:
                # Not finished as if it were safe: left `.open` for the next
                # worker's recovery, which checks it and fsyncs it again.
                self._file.close()
                return
            path = self._file.path
            try:
                self._file.check_still_ours()  # a file deleted after the last request is salvaged
                if self._file.fd is not None:
                    self._file.finish("stopped")
            except OSError as error:
                # The store failed under a worker that had not written since
                # (a disk failing, the directory gone: another worker met it
                # first): whatever is there stays `.open`, and the next start's
                # recovery checks it and fsyncs it again.
                logger.error("could not finish %s at stop (%s); it is left for recovery", path, cause(error))
                self._file.close()

    # -- the write path ----------------------------------------------------

    def _write(self, data: bytes) -> None:
        if self._pid != os.getpid():
            self._start_in_this_process()
        datadir.check(self.data_dir)  # before the file: a file of a directory renamed away stays ours
        file = self._file
        if file.fd is not None:
            file.check_still_ours()
        if file.fd is not None and file.rotation_due(len(data), self.rotate_bytes, self.rotate_seconds):
            file.finish("rotated")
        if file.fd is None:
            file.open()
        file.append(data, sync=self._policy.every_write)
        self._dirty = True

    def _start_in_this_process(self) -> None:
        self._file.forget(os.getpid())
        datadir.check(self.data_dir)
        recovered = datafiles.recover_abandoned(self.data_dir, sync=self._policy.syncs_files)
        FILES_FINISHED.labels(reason="recovered").inc(len(recovered))
        self._pid = os.getpid()
        self._dirty = False
        # Asks made before this process wrote anything are not for it.
        self._finish_seen = finishing.requested(self.data_dir)
        threading.Thread(target=self._background, name="collector-writer", daemon=True).start()
        # Files finished by an earlier run or just recovered may await compression or retention.
        self._on_finish()

    def _abandon_file(self) -> None:
        """After a failure, finish what is there if possible and start afresh next time."""
        if self._file.fd is None:
            return
        if self.broken:
            self._file.close()  # left `.open` for the recovery of the worker that replaces this one
            return
        if self._file.is_deleted():
            return  # deleted from outside: kept open for `OpenFile.salvage_deleted`
        try:
            self._file.finish("failed")
        except OSError as error:
            logger.error("could not finish %s after a failure: %s", self._file.path, error)

    def _report_failure(self, error: OSError) -> None:
        # Once per outage: a full disk must not flood the log with one line per request.
        if not self._failing:
            self._failing = True
            logger.error(
                "cannot store events in %s: %s; answering 503 until it works again",
                self.data_dir,
                cause(error),
            )
