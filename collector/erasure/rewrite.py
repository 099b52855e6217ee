"""Rewriting one finished data file without some of its lines, atomically, plain or `.gz`.

The steps, and what a crash after each leaves (readers are `datafiles.data_files`
and everything built on it: `collector events`, the console, retention, and
shippers globbing `events-*.jsonl` / `events-*.jsonl.gz`):

1. The kept lines are written to `.<name>.erasing` in the same directory (the
   same file system, so the rename below is atomic), gzipped when the file is,
   fsynced. A crash here leaves the old file, complete, and a temporary file
   that no reader reads: its name starts with a dot, not `events-`, and ends
   in `.erasing`, none of the data files' suffixes. The next erasure removes it.
2. The temporary file is read back and its lines counted (gzip checks its CRC):
   a write the disk got wrong is never renamed over the events it replaces.
3. It is given the old file's owner, mode and modification time (retention by age goes by
   it: an erased file must not live longer, nor go sooner) and renamed over
   the old name. rename(2) replaces the name in one step: a reader opens
   either the old inode or the new one, never neither; one that opened the
   old file before reads it to its end (its erased lines once more, the last
   time). A crash on either side of the rename leaves exactly one file under
   the name: old or new, never both counted, never neither.
4. The directory is fsynced, so the new name survives a power loss.

A file left with no lines is removed instead (unlink is as atomic as rename:
the old file, or no file, and no file is the right answer when every line was
the person's). An erasure that stops at any step leaves the person's events
in at most that one file, and a second erasure finds and removes them: it is
idempotent.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gzip
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from ..store import datafiles
from .blocks import BlockTransform, lines_in, whole_line_blocks

TEMP_SUFFIX = ".erasing"
# What `gzip` does by default: the erasure's cost is the compression, and
# level 9 (the compressor's) costs three times as much for a few per cent.
GZIP_LEVEL = 6



@dataclasses.dataclass
class Rewritten:
    """What one rewrite did: lines dropped, lines changed, lines kept as they were; whether the file is gone."""

    dropped: int = 0
    changed: int = 0
    kept: int = 0
    removed: bool = False


def temp_path(path: Path) -> Path:
    return path.with_name("." + path.name + TEMP_SUFFIX)


def leftovers(data_dir: Path) -> list[Path]:
    """Temporary files of an erasure that crashed: nothing reads them, the next erasure removes them."""
    return sorted(Path(data_dir).glob(".events-*" + TEMP_SUFFIX))


def _nothing(step: str) -> None:
    pass


def rewrite(path: Path, transform: BlockTransform, step: Callable[[str], None] = _nothing) -> Rewritten:
    """Replace the finished file `path` by its blocks of lines through `transform`, or remove it if none is left.

    `step` is called after each step ("written", "verified", "replaced",
    "synced", or "removed"): tests crash there.
    :raises OSError: the old file is then still in place, whole.
    """
    temp = temp_path(path)
    try:
        result, written = _write_temp(path, temp, transform)
        step("written")
        if result.changed + result.kept == 0:
            temp.unlink()
            path.unlink()
            result.removed = True
            datafiles.fsync_directory(path.parent)
            step("removed")
            return result
        _check_reads_back(temp, path.name.endswith(".gz"), written, result.changed + result.kept)
        step("verified")
        old = path.stat()
        _same_owner(temp, old)
        os.chmod(temp, stat.S_IMODE(old.st_mode))
        os.utime(temp, ns=(old.st_mtime_ns, old.st_mtime_ns))
        os.rename(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    step("replaced")
    datafiles.fsync_directory(path.parent)
    step("synced")
    return result


def _same_owner(temp: Path, old: os.stat_result) -> None:
    """Run as root, keep the file the service's: its writer appends to dead-letter files by name."""
    if (old.st_uid, old.st_gid) != (os.geteuid(), os.getegid()):
        with contextlib.suppress(PermissionError):  # not root: the file stays the erasing user's
            os.chown(temp, old.st_uid, old.st_gid)


def _write_temp(path: Path, temp: Path, transform: BlockTransform) -> tuple[Rewritten, int]:
    """The blocks of `path` through `transform` into `temp`, fsynced; the counts and the bytes written."""
    result = Rewritten()
    written = 0
    compressed = path.name.endswith(".gz")
    with datafiles.open_regular(path) as source, open(temp, "wb", buffering=0) as raw:
        plain_name = path.name.removesuffix(".gz")
        target: gzip.GzipFile | BinaryIO = gzip.GzipFile(plain_name, "wb", GZIP_LEVEL, raw) if compressed else raw
        # Closing the GzipFile writes its trailer; the plain file stays open for the fsync below.
        with target if compressed else contextlib.nullcontext():
            for block in whole_line_blocks(source):
                new, dropped, changed = transform(block)
                result.dropped += dropped
                result.changed += changed
                result.kept += lines_in(new) - changed
                if compressed:
                    target.write(new)
                else:
                    datafiles.write_all(raw.fileno(), new)
                written += len(new)
        os.fsync(raw.fileno())
    return result, written


def _check_reads_back(temp: Path, compressed: bool, written: int, lines: int) -> None:
    """Read the new file back: as many bytes and lines as were written (and, gzipped, its CRC right)."""
    size = count = 0
    with open(temp, "rb") as raw:
        stream = gzip.GzipFile(fileobj=raw, mode="rb") if compressed else raw
        with stream:
            for block in whole_line_blocks(stream):
                size += len(block)
                count += lines_in(block)
    if (size, count) != (written, lines):
        raise OSError(f"the rewritten copy {temp.name} reads back as {count} lines, not {lines}: not used")
