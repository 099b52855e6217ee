"""COLLECTOR_FSYNC: when the writer's data reaches the disk, and what a failed fsync means.

A failed fsync is never retried: after one, the kernel may have dropped the
dirty pages and a second fsync can succeed without them. The policy then
calls itself `broken`: the writer refuses every later request with 503, and
the gunicorn config restarts the worker (see `post_request` in
gunicorn.conf.py).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from ..ops.metrics import FSYNC_FAILURES

logger = logging.getLogger(__name__)

FSYNC_MODES = ("always", "interval", "never")


class FsyncPolicy:
    """One writer's COLLECTOR_FSYNC mode and period, and whether an fsync has failed."""

    def __init__(self, mode: str = "interval", seconds: float = 1.0) -> None:
        if mode not in FSYNC_MODES:
            raise ValueError(f"fsync must be one of {FSYNC_MODES}")
        self.mode = mode
        self.seconds = seconds
        self.broken = False  # a failed fsync: nothing more is written by this process

    @property
    def every_write(self) -> bool:
        """`always`: each request's write is synced before its 201."""
        return self.mode == "always"

    @property
    def timed(self) -> bool:
        """`interval`: what was written is synced every `seconds` by the writer's background thread."""
        return self.mode == "interval"

    @property
    def syncs_files(self) -> bool:
        """Anything but `never`: finished files and their directory are synced, and recovered files too."""
        return self.mode != "never"

    def fsync(self, fd: int, path: Path | None) -> None:
        """fsync `fd` (the file at `path`); a failure is counted, logged once, and leaves the policy broken.

        :raises OSError: the fsync failed.
        """
        try:
            os.fsync(fd)
        except OSError as error:
            FSYNC_FAILURES.inc()
            if not self.broken:
                self.broken = True
                logger.error(
                    "fsync of %s failed: %s; this worker refuses events from now on and restarts",
                    path,
                    cause(error),
                )
            raise


def cause(error: OSError) -> str:
    """What went wrong, as the OS says it (ENOSPC: 'No space left on device'), or as `datadir` does."""
    return error.strerror or (os.strerror(error.errno) if error.errno else str(error))
