"""A count of the times stored lines were removed or changed in place, for readers that cache the store.

The store is otherwise append-only, and the console's index relies on it: it
remembers how far it read each file and reads only what was added. An erasure
(`collector events forget`) rewrites files under the same names, so it bumps
this count, and a cache that sees a new count starts over. One small file in
the data directory, replaced atomically; its absence is generation 0.
"""

from __future__ import annotations

import os
from pathlib import Path

from . import datafiles

FILE_NAME = ".store-generation"


def read(data_dir: Path) -> int:
    """The data directory's generation: 0 until the first erasure."""
    try:
        return int((Path(data_dir) / FILE_NAME).read_text().strip() or 0)
    except (FileNotFoundError, ValueError):
        return 0


def bump(data_dir: Path) -> int:
    """Count one more change in place (written, fsynced, renamed over the old count); the new count."""
    data_dir = Path(data_dir)
    count = read(data_dir) + 1
    temp = data_dir / (FILE_NAME + ".tmp")
    with open(temp, "w", encoding="ascii") as stream:
        stream.write(f"{count}\n")
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(temp, data_dir / FILE_NAME)
    datafiles.fsync_directory(data_dir)
    return count
