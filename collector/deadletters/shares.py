"""A share of the dead letters' cap: its files, named by a prefix, and the bytes they may take together.

The letters with a body and the bodiless ones (a 401, a refused preflight)
each have one (see letters.DeadLetters): making room for a letter deletes the
oldest files of its own share only.
"""

from __future__ import annotations

import logging
from pathlib import Path

logger = logging.getLogger("collector.deadletters.letters")

# A process starts a new file past this size (or an eighth of its share), so the
# cap can delete old ones.
FILE_BYTES = 8 * 1024 * 1024


class Share:
    """One share of the cap: its files (by name), its bytes, this process's current file."""

    def __init__(self, prefix: str, pattern: str, max_bytes: int) -> None:
        self.prefix = prefix
        self.pattern = pattern
        self.max_bytes = max_bytes
        # A file small next to the share: deleting the oldest to make room loses
        # an eighth of its letters at most, not all of them.
        self.file_bytes = max(1, min(FILE_BYTES, max_bytes // 8))
        self.path: Path | None = None
        self.pid: int | None = None

    def make_room(self, directory: Path, incoming: int) -> None:
        """Delete this share's oldest files (any process's) until `incoming` more bytes fit under its cap."""
        files = sorted(directory.glob(self.pattern))
        total = sum(size(path) for path in files) + incoming
        for path in files:
            if total <= self.max_bytes:
                break
            total -= size(path)
            path.unlink(missing_ok=True)  # its writer re-creates it by name on its next letter
            logger.info("dead letters over %d bytes: deleted %s", self.max_bytes, path.name)


def size(path: Path, missing: int = 0) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return missing
