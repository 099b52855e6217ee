"""The on-disk format of the store: file names, finishing, repair and reading.

One place for the format, used by the writer and by the `collector events`
commands alike.

    events-20261126T045652.123456Z-myhost-4242-000001.jsonl.open   being written
    events-20261126T045652.123456Z-myhost-4242-000001.jsonl        finished
    events-20261126T045652.123456Z-myhost-4242-000001.jsonl.gz     finished, compressed

Names start with the file's UTC start time, so they sort in time order, and
carry host, process id and a per-process sequence, so they are unique across
hosts and workers. A shipper takes `events-*.jsonl` (and `*.jsonl.gz`) only:
those never change again, but for an erasure (`collector.erasure`), which
replaces one atomically under the same name. Every event is `events-*.jsonl*`.

The process writing a `.open` file holds an exclusive `flock` on it for as long
as it writes; a `.open` file nobody holds was left by a process that died, and
is repaired and finished by the next writer that starts.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import gzip
import io
import logging
import os
import re
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

logger = logging.getLogger(__name__)

OPEN_SUFFIX = ".jsonl.open"
FINISHED_SUFFIX = ".jsonl"
COMPRESSED_SUFFIX = ".jsonl.gz"
QUARANTINE_DIR = "quarantine"
# COLLECTOR_HOST_NAME is checked at start-up to be safe here; this only keeps
# a writer built by other code (tests, tools) from making a path of a name.
_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9_.-]+")
# The longest line a reader takes. A stored line is one event: at most
# COLLECTOR_MAX_EVENT_BYTES (32 KiB by default) plus what the collector adds;
# 16 MiB is 512 times that default and bounds what a reader holds of one line,
# however a file was made (a gzip bomb of zeros has no newline at all).
MAX_LINE_BYTES = 16 << 20
# A file with this many bad lines is damaged through and through (or a bomb of
# newlines): readers report it and stop reading it, rather than report (or
# spend minutes on) a billion bad lines.
MAX_BAD_LINES = 1000


class NotADataFile(OSError):
    """A file named like a data file that is not one: not a regular file, or not lines of events."""


def open_name(started: datetime, host: str, pid: int, sequence: int) -> str:
    stamp = started.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    host = _UNSAFE_NAME_CHARS.sub("_", host) or "host"
    return f"events-{stamp}-{host}-{pid}-{sequence:06d}{OPEN_SUFFIX}"


def finished_path(open_path: Path) -> Path:
    return open_path.with_name(open_path.name[: -len(OPEN_SUFFIX)] + FINISHED_SUFFIX)


def create_locked(path: Path) -> int:
    """Create a new file to append to, locked for as long as this process keeps it open."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    except OSError:
        os.close(fd)
        raise
    return fd


def write_all(fd: int, data: bytes) -> None:
    """Write all of `data`; a write that makes no progress is a full disk."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written == 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        view = view[written:]


def fsync_directory(directory: Path) -> None:
    """Make a rename or a new file in `directory` survive a crash of the machine."""
    _fsync_opened(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)


def fsync_file(path: Path) -> None:
    """Make what was written to the file at `path` (by another handle, a library's) survive a crash."""
    _fsync_opened(path, os.O_RDONLY | os.O_CLOEXEC)


def _fsync_opened(path: Path, flags: int) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def data_files(data_dir: Path) -> list[Path]:
    """Every file of events, open, finished or compressed, in time order, each once."""
    try:
        names = set(os.listdir(data_dir))
    except FileNotFoundError:
        return []
    suffixes = (OPEN_SUFFIX, FINISHED_SUFFIX, COMPRESSED_SUFFIX)
    return [
        data_dir / name
        for name in sorted(names)
        if name.startswith("events-")
        and name.endswith(suffixes)
        # Between the rename of a verified `.gz` and the removal of its
        # original, both exist: the `.gz` is complete, the original may vanish.
        and not (name.endswith(FINISHED_SUFFIX) and name + ".gz" in names)
    ]


def is_finished(path: Path) -> bool:
    return path.name.endswith((FINISHED_SUFFIX, COMPRESSED_SUFFIX))


def started_at(path: Path) -> str:
    """The start time in a file's name, written as `receivedAt` is: 2026-11-26T04:56:52.123Z."""
    stamp = path.name.split("-", 2)[1]  # 20261126T045652.123456Z
    return f"{stamp[0:4]}-{stamp[4:6]}-{stamp[6:8]}T{stamp[9:11]}:{stamp[11:13]}:{stamp[13:19]}Z"


def open_data_file(path: Path) -> contextlib.AbstractContextManager[io.BufferedIOBase]:
    """Open a data file to read, following it if it was finished or compressed since listed.

    :raises FileNotFoundError: gone under every name (e.g. deleted by retention).
    :raises NotADataFile: not a regular file (see `open_regular`).
    """
    names = [path.name]
    if path.name.endswith(OPEN_SUFFIX):
        names.append(finished_path(path).name)
    if names[-1].endswith(FINISHED_SUFFIX):
        names.append(names[-1] + ".gz")
    for name in names:
        try:
            return open_regular(path.with_name(name))
        except FileNotFoundError:
            continue
    raise FileNotFoundError(errno.ENOENT, "data file is gone", str(path))


def open_regular(path: Path) -> contextlib.AbstractContextManager[io.BufferedIOBase]:
    """Open one data file under this name to read, gunzipped if it ends in `.gz`: a regular file only.

    Anything else named like a data file is damage, never waited on or
    followed: a FIFO would block `open` until a writer came (O_NONBLOCK, then
    fstat refuses it), and a symbolic link (a loop, or a file elsewhere) is
    not followed (O_NOFOLLOW). The collector only ever writes regular files.

    :raises FileNotFoundError: no file of that name.
    :raises NotADataFile: a FIFO, device, directory or symbolic link.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise NotADataFile("a symbolic link, not a data file: not followed") from None
        raise
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotADataFile(f"not a regular file ({_kind(mode)}): not read")
    except BaseException:
        os.close(fd)
        raise
    # O_NONBLOCK stays set: it changes nothing for a regular file.
    return _reader(fd, path.name.endswith(".gz"))


@contextlib.contextmanager
def _reader(fd: int, compressed: bool) -> Iterator[io.BufferedIOBase]:
    with open(fd, "rb") as raw:
        if not compressed:
            yield raw
            return
        with gzip.GzipFile(fileobj=raw, mode="rb") as unzipped:
            yield unzipped


def _kind(mode: int) -> str:
    for test, kind in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISDIR, "a directory"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return "a device"


def iter_lines(path: Path) -> Iterator[bytes]:
    """The lines of a data file, each with its newline, split on b"\\n" only.

    JSON allows U+2028 and U+2029 unescaped inside strings; `str.splitlines`
    would break a line there, so lines are split as bytes. A last line with no
    newline (torn) is yielded as it is, for the caller to report.

    :raises NotADataFile: not a regular file, or a line longer than MAX_LINE_BYTES.
    """
    with open_data_file(path) as stream:
        yield from bounded_lines(stream)


def bounded_lines(stream: io.BufferedIOBase) -> Iterator[bytes]:
    """The lines of `stream` from where it is, none longer than MAX_LINE_BYTES.

    :raises NotADataFile: a longer one: no event is stored as that; a gzip
        bomb (a gigabyte of zeros) is read 16 MiB deep at most, then refused.
    """
    while True:
        raw = stream.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        if len(raw) > MAX_LINE_BYTES:
            raise NotADataFile(
                f"a line longer than {MAX_LINE_BYTES >> 20} MiB, which no stored event is "
                "(a gzip bomb?): the rest of the file is not read"
            )
        yield raw


def recover_abandoned(data_dir: Path, sync: bool) -> list[Path]:
    """Repair and finish every `.open` file whose writer is gone.

    Returns the finished paths. Files still locked by a live writer are left alone.
    """
    finished = []
    for path in data_files(data_dir):
        if path.name.endswith(OPEN_SUFFIX):
            try:
                result = recover_one(path, data_dir, sync)
            except OSError as error:
                logger.error("could not recover abandoned file %s: %s", path, error)
                continue
            if result is not None:
                finished.append(result)
    return finished


def recover_one(path: Path, data_dir: Path, sync: bool) -> Path | None:
    """Repair and finish one `.open` file if no live writer holds it; its finished path, or None."""
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return None  # finished or recovered by someone else meanwhile
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                return None  # a live writer holds it
            raise
        if not _still_named(path, fd):
            return None  # finished, recovered or removed between opening and locking
        size = os.fstat(fd).st_size
        if size == 0:
            os.unlink(path)
            return None
        keep = _whole_lines_size(fd, size)
        if keep < size:
            _quarantine_tail(fd, keep, size, path, data_dir)
            os.ftruncate(fd, keep)
        if sync:
            os.fsync(fd)
        target = finished_path(path)
        os.rename(path, target)
        if sync:
            fsync_directory(data_dir)
        logger.info("finished abandoned file %s (%d bytes)", target.name, keep)
        return target
    finally:
        os.close(fd)


def _still_named(path: Path, fd: int) -> bool:
    try:
        return os.stat(path).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


def _whole_lines_size(fd: int, size: int) -> int:
    """Bytes up to and including the last newline."""
    chunk = 65536
    end = size
    while end > 0:
        start = max(0, end - chunk)
        block = os.pread(fd, end - start, start)
        index = block.rfind(b"\n")
        if index >= 0:
            return start + index + 1
        end = start
    return 0


def _quarantine_tail(fd: int, keep: int, size: int, path: Path, data_dir: Path) -> None:
    """Keep a torn last line (a write that never got its 201) for a person to inspect."""
    tail = os.pread(fd, size - keep, keep)
    quarantine = data_dir / QUARANTINE_DIR
    quarantine.mkdir(exist_ok=True)
    target = quarantine / (path.name + ".torn")
    with open(target, "ab") as stream:
        stream.write(tail)
        stream.flush()
        os.fsync(stream.fileno())
    logger.warning(
        "cut a torn last line of %d bytes from %s; kept it in %s", size - keep, path.name, target
    )
