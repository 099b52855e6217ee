"""The Parquet exporter's ledger: which finished files are exported to a target, kept in the data directory.

`DATA/parquet-exports/<target>-<hash>.jsonl`, one per target directory (its
resolved path, spelled safe for a name, and a hash of it), so that two targets
are exported independently; beside it `<...>.lock`, the flock that lets one
exporter at a time work on that (data directory, target).

One JSON line per exported file: its name (without `.gz`: a file compressed
after its export is not exported again), the target, its lines, bad lines and
events, the SHA-256 of its lines, its outputs and when; one per file taken
out to be exported again (`"again": true`, with its outputs `"stale"`: to be
replaced by that export, which removes those it did not replace; or
`"removed"`, when the file is gone and there is nothing to replace them with); and one
per erasure of `erasures.log` applied (`"erasure"`: the SHA-256 of its line,
with the files it took out). A line is written in
one `write` to the end of the file and fsynced: a record is a whole line or no
record. A crash mid-write leaves a torn last line, which is no record (that
file is exported again, replacing its own outputs), and which the next
exporter cuts off, holding the lock, before it appends. Appending, not
rewriting the whole ledger at each file: a ledger of years of files would
cost a rewrite of all of it per file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..filelock import flocked
from ..store import datafiles

DIRECTORY = "parquet-exports"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


class AlreadyRunning(Exception):
    """Another exporter holds the lock of this (data directory, target)."""


class Damaged(Exception):
    """A whole line of the ledger that is not a record: written by hand, or a damaged disk."""


class Ledger:
    def __init__(self, data_dir: Path, target: Path) -> None:
        self.target = Path(target).resolve()
        spelled = _UNSAFE.sub("_", str(self.target)).strip("_")[-80:] or "root"
        key = f"{spelled}-{hashlib.sha256(str(self.target).encode()).hexdigest()[:12]}"
        self.directory = Path(data_dir) / DIRECTORY
        self.path = self.directory / f"{key}.jsonl"
        self.lock_path = self.directory / f"{key}.lock"
        # While the lock is held no one else appends: the records are read once and kept here, with those
        # appended meanwhile, rather than read from disk again for each question a run asks of them.
        self._held: list[dict[str, Any]] | None = None

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """This (data directory, target) for the block, or AlreadyRunning at once; a torn last record cut off.

        :raises AlreadyRunning: another exporter holds it.
        """
        self.directory.mkdir(mode=0o750, exist_ok=True)
        busy = f"another exporter is exporting this data directory to {self.target}: nothing done"
        with flocked(self.lock_path, busy=lambda: AlreadyRunning(busy)):
            self._cut_torn_tail()
            self._held = self._read()
            try:
                yield
            finally:
                self._held = None

    def records(self) -> list[dict[str, Any]]:
        """Every whole record, in the order written (a torn last line is none).

        :raises Damaged: a whole line is not a record.
        """
        return list(self._held) if self._held is not None else self._read()

    def _read(self) -> list[dict[str, Any]]:
        try:
            text = self.path.read_bytes()
        except FileNotFoundError:
            return []
        records = []
        for number, line in enumerate(text.split(b"\n")[:-1], start=1):
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            if not isinstance(record, dict) or not isinstance(record.get("file", record.get("erasure")), str):
                raise Damaged(f"{self.path}:{number}: not a record of the ledger")
            records.append(record)
        return records

    def exported(self) -> dict[str, dict[str, Any]]:
        """The files exported to this target, by name (without `.gz`): each one's last record.

        A record `{"again": true}` (`--again`, after an erasure) takes its
        file out: the file is exported anew, and that is recorded after it.
        """
        exported: dict[str, dict[str, Any]] = {}
        for record in self.records():
            if "file" not in record:
                continue  # an erasure applied
            if record.get("again") is True:
                exported.pop(record["file"], None)
            else:
                exported[record["file"]] = record
        return exported

    def stale(self) -> dict[str, list[str]]:
        """The outputs of files taken out to be exported again, not replaced yet: by file, those named stale by
        its `again` records since its last export."""
        stale: dict[str, list[str]] = {}
        for record in self.records():
            if "file" not in record:
                continue
            if record.get("again") is True:
                stale.setdefault(record["file"], []).extend(record.get("stale", []))
            else:
                stale.pop(record["file"], None)
        return stale

    def applied_erasures(self) -> set[str]:
        """The erasures (the SHA-256 of their line in `erasures.log`) applied to this target."""
        return {record["erasure"] for record in self.records() if "erasure" in record}

    def append(self, record: dict[str, Any]) -> None:
        """One record, durably, in one write; the lock held."""
        created = not self.path.exists()
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o640)
        line = json.dumps(record, ensure_ascii=False).encode()
        try:
            datafiles.write_all(fd, line + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:
            datafiles.fsync_directory(self.directory)
        if self._held is not None:
            self._held.append(json.loads(line))  # as a reading of the file would give it

    def _cut_torn_tail(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CLOEXEC)
        except FileNotFoundError:
            return
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                whole = self.path.read_bytes().rfind(b"\n") + 1
                os.ftruncate(fd, whole)
                os.fsync(fd)
        finally:
            os.close(fd)
