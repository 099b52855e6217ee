"""Upkeep of finished files, away from the request path: gzip compression and retention.

Each writing process runs one background thread; passes of several workers
take turns on one `flock`ed file, so two workers never compress or delete the
same file. A pass runs when the writer finishes a file, and every `period`
seconds (retention by age needs no event to happen).

Compression never risks an event: the `.gz` is written under a hidden
temporary name (shippers' `events-*` globs do not see it), fsynced, read back
and compared with the original, renamed atomically to its final name, and only
then is the original removed. A crash at any point leaves either the original,
or both (readers take the `.gz`; the next pass removes the original), never
neither.

As a writing process stops, it makes one last pass (`run_before_exit`), so
that the files it finished at stop ship compressed (shippers take `*.jsonl.gz`)
rather than wait for the next start. The pass is bounded (STOP_SECONDS, inside
gunicorn's graceful_timeout of 30 s, which also covers the requests in
flight); one cut short by the exit is safe as a crash is, and the next start's
pass does the rest.

Retention only ever deletes finished files (`.jsonl`, `.jsonl.gz`), oldest
first, and only as many as the limits ask for.
"""

from __future__ import annotations

import dataclasses
import gzip
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .. import datadir, filelock
from ..ops.metrics import FILES_COMPRESSED, RETENTION_DELETED_BYTES, RETENTION_DELETED_FILES
from . import datafiles

logger = logging.getLogger(__name__)

LOCK_NAME = ".maintenance.lock"
TEMP_SUFFIX = ".gz.tmp"
_CHUNK = 1 << 20
_DAY = 86400.0
# The last pass at stop: what a 64 MiB file takes on a busy machine, with room
# left in gunicorn's graceful_timeout (30 s) for the requests in flight.
STOP_SECONDS = 20.0


@dataclasses.dataclass(frozen=True)
class FileFacts:
    path: Path
    size: int
    modified: float


def expired(
    files: list[FileFacts], now: float, days: float | None, max_bytes: int | None
) -> list[FileFacts]:
    """The finished files retention deletes: too old, then the oldest while over `max_bytes`.

    `files` are finished files in time order (oldest first). Pure, for tests.
    """
    doomed = [f for f in files if days is not None and now - f.modified > days * _DAY]
    if max_bytes is not None:
        old = {f.path for f in doomed}
        kept = [f for f in files if f.path not in old]
        total = sum(f.size for f in kept)
        for facts in kept:
            if total <= max_bytes:
                break
            doomed.append(facts)
            total -= facts.size
    return sorted(doomed, key=lambda f: f.path.name)


def compress_file(path: Path) -> Path:
    """gzip a finished file next to it; the original is removed only once the `.gz` is verified.

    :raises OSError: the original is then untouched and no `.gz` exists.
    """
    target = path.with_name(path.name + ".gz")
    temp = path.with_name("." + path.name + TEMP_SUFFIX)
    try:
        with open(path, "rb") as source, open(temp, "wb") as raw:
            with gzip.GzipFile(filename=path.name, mode="wb", fileobj=raw) as packed:
                shutil.copyfileobj(source, packed, _CHUNK)
            raw.flush()
            os.fsync(raw.fileno())
        # Keeps the time of the last event: retention by age goes by it.
        modified = path.stat().st_mtime_ns
        os.utime(temp, ns=(modified, modified))
        _check_same_content(path, temp)
        os.rename(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    datafiles.fsync_directory(path.parent)
    path.unlink()
    return target


def _check_same_content(original: Path, packed: Path) -> None:
    """Read the `.gz` back (gzip checks its CRC and length) and compare it byte for byte."""
    with open(original, "rb") as plain, gzip.open(packed, "rb") as unpacked:
        while True:
            expected = plain.read(_CHUNK)
            if unpacked.read(len(expected) or 1) != expected:
                raise OSError(f"compressed copy of {original.name} does not match it")
            if not expected:
                return


class Maintenance:
    """Compression and retention of one data directory, in a background thread."""

    def __init__(
        self,
        data_dir: Path,
        compress: str = "none",
        retention_days: float | None = None,
        retention_bytes: int | None = None,
        period: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.compress = compress
        self.retention_days = retention_days
        self.retention_bytes = retention_bytes
        self.period = period
        self._clock = clock
        self._wakeup = threading.Event()
        self._pid: int | None = None
        self._stopped: int | None = None  # the process that made its last pass

    @property
    def enabled(self) -> bool:
        return self.compress != "none" or self.retention_days is not None or self.retention_bytes is not None

    def wake(self) -> None:
        """Ask for a pass soon (a file was finished); starts the thread in this process."""
        if not self.enabled:
            return
        if self._pid != os.getpid():
            self._pid = os.getpid()
            threading.Thread(target=self._loop, name="collector-maintenance", daemon=True).start()
        self._wakeup.set()

    def run_before_exit(self, budget: float = STOP_SECONDS) -> None:
        """The last pass of a stopping process (once), so its last files ship compressed; at most `budget` s."""
        if self.compress == "none" or self._stopped == os.getpid():
            return
        self._stopped = os.getpid()
        done = threading.Event()

        def last_pass() -> None:
            try:
                self.run_once()
            except OSError as error:
                logger.error("maintenance of %s at stop failed: %s; the next start does it", self.data_dir, error)
            finally:
                done.set()

        # A thread, so that the wait is bounded (a big file, another worker's pass holding the turn).
        threading.Thread(target=last_pass, name="collector-maintenance-stop", daemon=True).start()
        if not done.wait(budget):
            logger.warning("compression at stop took over %.0f s; the next start compresses the rest", budget)

    def _loop(self) -> None:
        while self._pid == os.getpid():
            self._wakeup.wait(self.period)
            self._wakeup.clear()
            try:
                self.run_once()
            except OSError as error:
                logger.error("maintenance of %s failed: %s; trying again later", self.data_dir, error)

    def run_once(self) -> None:
        """One pass: clean up after crashes, compress, then apply retention."""
        datadir.check(self.data_dir)  # not even its lock file in a directory put in its place
        with turn(self.data_dir):
            self._clean_up()
            if self.compress == "gzip":
                self._compress_finished()
            if self.retention_days is not None or self.retention_bytes is not None:
                self._apply_retention()

    def _clean_up(self) -> None:
        clean_up(self.data_dir)

    def _compress_finished(self) -> None:
        for path in datafiles.data_files(self.data_dir):
            if path.name.endswith(datafiles.FINISHED_SUFFIX):
                compress_file(path)
                FILES_COMPRESSED.inc()
                logger.info("compressed %s", path.name)

    def _apply_retention(self) -> None:
        facts = list(_finished_facts(self.data_dir))
        for doomed in expired(facts, self._clock(), self.retention_days, self.retention_bytes):
            doomed.path.unlink(missing_ok=True)
            RETENTION_DELETED_FILES.inc()
            RETENTION_DELETED_BYTES.inc(doomed.size)
            logger.info(
                "retention: deleted %s (%d bytes, last written %s)",
                doomed.path.name,
                doomed.size,
                time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(doomed.modified)),
            )


def _finished_facts(data_dir: Path) -> Iterator[FileFacts]:
    for path in datafiles.data_files(data_dir):
        if datafiles.is_finished(path):
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            yield FileFacts(path, stat.st_size, stat.st_mtime)


def clean_up(data_dir: Path) -> None:
    """Undo what a crashed compression left: call it holding the `turn`.

    Holding the turn, no pass is writing: any temp file is a crash's leftover,
    and an original beside its `.gz` was left between the rename of the
    verified `.gz` and its own removal.
    """
    for temp in data_dir.glob(".events-*" + TEMP_SUFFIX):
        temp.unlink(missing_ok=True)
    for gz in data_dir.glob("events-*" + datafiles.COMPRESSED_SUFFIX):
        original = gz.with_name(gz.name[: -len(".gz")])
        if original.exists():
            original.unlink()


@contextmanager
def turn(data_dir: Path) -> Iterator[None]:
    """Wait for other workers' passes to end, then hold the data directory's maintenance lock.

    What else changes finished files (an erasure) takes the same turn, so that
    no file is compressed or expired while it is rewritten.
    """
    with filelock.flocked(Path(data_dir) / LOCK_NAME, flags=os.O_RDWR, mode=0o644):
        yield
