"""Files named like data files that are not: a FIFO, a symbolic link loop, gzip bombs. For the readers' tests."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

from tests.bombs import gzip_of_zeros

# A gigabyte of zeros (no newline) in a megabyte; and four million empty lines.
ZEROS = 1 << 30
NEWLINES = 4 << 20


def make(data_dir: Path, kind: str) -> str:
    """Put one damaged file of `kind` in `data_dir`; its name."""
    name = {
        "fifo": "events-20261126T070000.000000Z-h-7-000001.jsonl",
        "symlink_loop": "events-20261126T070100.000000Z-h-8-000001.jsonl",
        "zero_bomb": "events-20261126T070200.000000Z-h-9-000001.jsonl.gz",
        "newline_bomb": "events-20261126T070300.000000Z-h-10-000001.jsonl.gz",
    }[kind]
    path = data_dir / name
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "symlink_loop":
        os.symlink(name, path)  # itself
    elif kind == "zero_bomb":
        path.write_bytes(gzip_of_zeros(ZEROS))
    else:
        path.write_bytes(gzip.compress(b"\n" * NEWLINES, compresslevel=1))
    return name


KINDS = ("fifo", "symlink_loop", "zero_bomb", "newline_bomb")
# What the readers say of each.
REASONS = {
    "fifo": "not a regular file (a FIFO)",
    "symlink_loop": "a symbolic link",
    "zero_bomb": "a line longer than 16 MiB",
    "newline_bomb": "1000 bad lines",
}
