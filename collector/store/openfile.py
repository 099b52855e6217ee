"""This process's current data file: opened under a fresh name, written whole, watched, finished.

If the file is deleted from outside while open (an operator, a careless
logrotate), its content is copied to a new file, so acknowledged events are
not lost with it; if it is moved away, the moved file is complete and a new
one is started. A write that fails part-way is cut back to where it started,
so the file always ends with a whole line.

Not thread-safe on its own: the `EventWriter` that owns it calls it under its
lock, and only in the process that opened it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from .. import datadir
from ..ops.metrics import FILES_FINISHED
from . import datafiles
from .fsyncpolicy import FsyncPolicy

logger = logging.getLogger(__name__)


class OpenFile:
    """The file being written, if any: its descriptor, path, size and age, and its rotation."""

    def __init__(
        self,
        data_dir: Path,
        host_name: str,
        policy: FsyncPolicy,
        clock: Callable[[], float],
        on_finish: Callable[[], None],
    ) -> None:
        self.data_dir = data_dir
        self.host_name = host_name
        self._policy = policy
        self._clock = clock
        self._on_finish = on_finish  # e.g. wake the compressor: a file is ready for it
        self.fd: int | None = None
        self.path: Path | None = None
        self.size = 0
        self.opened_at = 0.0
        self._sequence = 0
        self._pid = 0  # names the files; set by `forget` before any is opened

    def forget(self, pid: int) -> None:
        """Drop the file without touching it: a forked child (gunicorn --preload) must not reuse its parent's."""
        self.fd, self.path, self.size = None, None, 0
        self._sequence = 0
        self._pid = pid

    def _current(self) -> tuple[int, Path]:
        """The open file's descriptor and path: what needs them is called only while one is open."""
        if self.fd is None or self.path is None:
            raise RuntimeError("no data file is open")
        return self.fd, self.path

    def open(self) -> int:
        """Start a new file; its descriptor."""
        datadir.check(self.data_dir)
        self._sequence += 1
        now = self._clock()
        name = datafiles.open_name(
            datetime.fromtimestamp(now, UTC), self.host_name, self._pid, self._sequence
        )
        path = self.data_dir / name
        fd = datafiles.create_locked(path)
        self.fd, self.path, self.size, self.opened_at = fd, path, 0, now
        return fd

    def append(self, data: bytes, sync: bool) -> None:
        """Write `data` at the end in one go (and fsync it if `sync`), or cut it back and raise.

        :raises OSError: nothing of `data` stays in the file.
        """
        start = self.size
        try:
            datafiles.write_all(self._current()[0], data)
            self.size = start + len(data)
            if self.is_deleted():
                self.salvage_deleted()
            if sync:
                self._policy.fsync(*self._current())
        except OSError:
            # All or nothing: the client gets 503 and resends, so none of
            # this request may stay behind.
            self._cut_back(start)
            self.size = start
            raise

    def rotation_due(self, incoming: int, rotate_bytes: int, rotate_seconds: float) -> bool:
        too_big = self.size > 0 and self.size + incoming > rotate_bytes
        return too_big or self.age() >= rotate_seconds

    def age(self) -> float:
        return self._clock() - self.opened_at

    def _cut_back(self, size: int) -> None:
        """Remove a partial write so the file ends with a whole line again."""
        try:
            os.ftruncate(self._current()[0], size)
        except OSError as error:
            # The next start-up's recovery cuts the torn line and quarantines it.
            logger.error("could not cut back a partial write in %s: %s", self.path, error)

    def check_still_ours(self) -> None:
        """Follow a file moved away (start a new one next) or deleted (copy it) from outside."""
        fd, path = self._current()
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return
        if self.is_deleted():
            self.salvage_deleted()
        else:
            logger.warning("%s was moved away while open; starting a new file", self.path)
            self.close()

    def salvage_deleted(self) -> None:
        """Copy a file deleted from outside into a new file, so no stored event is lost.

        If the copy cannot be made yet (the directory is gone too), the deleted
        file stays open as the current one and the next request tries again.
        """
        (old_fd, old_path), size = self._current(), self.size
        content = os.pread(old_fd, size, 0)
        self.fd = None
        new_fd: int | None = None
        try:
            new_fd = self.open()
            datafiles.write_all(new_fd, content)
        except OSError:
            if new_fd is not None:
                os.ftruncate(new_fd, 0)
                self.finish("failed")  # empty: removed
            self.fd, self.path, self.size = old_fd, old_path, size
            raise
        self.size = len(content)
        os.close(old_fd)
        logger.warning(
            "%s was deleted while open; copied its %d bytes to %s", old_path, size, self.path
        )

    def is_deleted(self) -> bool:
        """Unlinked from outside while open: its content lives only in this descriptor now."""
        return os.fstat(self._current()[0]).st_nlink == 0

    def finish(self, reason: str) -> None:
        """Rename the open file to its finished name; empty files are removed instead.

        `reason` labels collector_files_finished_total: rotated, stopped or failed.
        """
        (fd, path), sync = self._current(), self._policy.syncs_files
        try:
            if self.size == 0:
                os.unlink(path)
            else:
                if sync:
                    self._policy.fsync(fd, path)
                # Renamed while still locked, so no recovery can race for it.
                os.rename(path, datafiles.finished_path(path))
                FILES_FINISHED.labels(reason=reason).inc()
                if sync:
                    datafiles.fsync_directory(self.data_dir)
                self._on_finish()
        finally:
            self.close()

    def close(self) -> None:
        """Close the descriptor and forget the file, whatever its state (`.open` is left for recovery)."""
        fd, self.fd, self.path, self.size = self.fd, None, None, 0
        if fd is not None:
            os.close(fd)
