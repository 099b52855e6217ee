"""Dead letters: refused requests kept for a person to look at, and to replay after a fix.

With COLLECTOR_DEAD_LETTER=on, each refused request (not the rate-limited or
unauthorised ones: those are counted, never stored, or an abusive client would
fill the disk) becomes one JSON line under `deadletters/` in the data
directory: an `id`, when, the status, code and message it got, its client, and
its body (at most COLLECTOR_DEAD_LETTER_MAX_BODY_BYTES of it; text when it is
UTF-8, else base64). Each process appends to its own file; all files together
stay under COLLECTOR_DEAD_LETTER_MAX_BYTES, the oldest deleted first.

`collector deadletter replay` sends them through validation again and stores
those that now pass, exactly once: each replayed id is recorded in
`deadletters/replayed.log` (after its events are written, so a crash in between
errs towards replaying it again, never towards losing it).
"""

from __future__ import annotations

import base64
import logging
import os
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .. import jsontext
from ..ops.metrics import DEAD_LETTERS
from . import datafiles

logger = logging.getLogger(__name__)

DIRECTORY = "deadletters"
REPLAYED = "replayed.log"
# Files named like dead letters that could not be read, said once each.
_SKIPPED: set[str] = set()
# A process starts a new file past this size, so the cap can delete old ones.
FILE_BYTES = 8 * 1024 * 1024


class DeadLetters:
    """This process's dead-letter file, capped with the others in the directory."""

    def __init__(self, data_dir: Path, host_name: str, max_body_bytes: int, max_bytes: int) -> None:
        self.directory = Path(data_dir) / DIRECTORY
        self.host_name = host_name
        self.max_body_bytes = max_body_bytes
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._path: Path | None = None
        self._pid: int | None = None

    def record(self, *, body: bytes | None, status: int, code: str, message: str, facts: dict[str, Any]) -> None:
        """Keep one refused request; a failure to keep it is logged, never raised to the client."""
        entry: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "receivedAt": _now(),
            "status": status,
            "code": code,
            "message": message,
            **facts,
        }
        entry.update(body_fields(body, self.max_body_bytes))
        line = jsontext.dumps_line(entry)
        try:
            with self._lock:
                self._append(line)
            DEAD_LETTERS.inc()
        except OSError as error:
            logger.warning("could not keep a dead letter in %s: %s", self.directory, error)

    def _append(self, line: bytes) -> None:
        if self._pid != os.getpid() or self._path is None or _size(self._path) + len(line) > FILE_BYTES:
            self.directory.mkdir(parents=True, exist_ok=True)
            stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
            self._path = self.directory / f"deadletters-{stamp}-{self.host_name}-{os.getpid()}.jsonl"
            self._pid = os.getpid()
            self._enforce_cap(len(line))
        fd = os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o640)
        try:
            datafiles.write_all(fd, line)
        finally:
            os.close(fd)

    def _enforce_cap(self, incoming: int) -> None:
        files = sorted(self.directory.glob("deadletters-*.jsonl"))
        total = sum(_size(path) for path in files) + incoming
        for path in files:
            if total <= self.max_bytes:
                break
            total -= _size(path)
            path.unlink(missing_ok=True)
            logger.info("dead letters over %d bytes: deleted %s", self.max_bytes, path.name)


def body_fields(body: bytes | None, limit: int) -> dict[str, Any]:
    """The body as a dead letter keeps it: UTF-8 text, or base64 of bytes that are not text."""
    if body is None:
        return {"body": None, "bodyBytes": 0, "bodyTruncated": False}
    kept = body[:limit]
    fields: dict[str, Any] = {"bodyBytes": len(body), "bodyTruncated": len(body) > limit}
    try:
        fields["body"] = kept.decode("utf-8")
    except UnicodeDecodeError:
        fields["bodyBase64"] = base64.b64encode(kept).decode("ascii")
    return fields


def read(data_dir: Path) -> Iterator[dict[str, Any]]:
    """Every dead letter, oldest file first; lines that cannot be read are skipped."""
    return read_new(data_dir, {})


def read_new(data_dir: Path, offsets: dict[str, int]) -> Iterator[dict[str, Any]]:
    """The dead letters written since `offsets` (file name -> bytes read), which it updates.

    Only whole lines are read (a writer may be in the middle of one); files
    deleted by the cap are forgotten. With `{}`: every dead letter.
    """
    paths = sorted((Path(data_dir) / DIRECTORY).glob("deadletters-*.jsonl"))
    for gone in set(offsets) - {path.name for path in paths}:
        del offsets[gone]
    for path in paths:
        start = offsets.get(path.name, 0)
        try:
            # Regular files only: a FIFO named like a dead-letter file would block for ever.
            with datafiles.open_regular(path) as stream:
                stream.seek(start)
                data = stream.read()
        except FileNotFoundError:
            continue  # deleted by the cap since it was listed
        except OSError as error:
            if str(path) not in _SKIPPED:  # once per file, not at every look of the console
                _SKIPPED.add(str(path))
                logger.warning("skipped %s, not a dead-letter file: %s", path, error)
            continue
        whole = data.rfind(b"\n") + 1
        offsets[path.name] = start + whole
        for raw in data[:whole].splitlines():
            try:
                entry = jsontext.loads(raw)
            except jsontext.InvalidJSON:
                continue
            if isinstance(entry, dict) and "id" in entry:
                yield entry


def replayed_ids(data_dir: Path) -> set[str]:
    try:
        return set((Path(data_dir) / DIRECTORY / REPLAYED).read_text().split())
    except FileNotFoundError:
        return set()


def mark_replayed(data_dir: Path, dead_letter_id: str) -> None:
    """Record a replayed id, durably, after its events were written."""
    path = Path(data_dir) / DIRECTORY / REPLAYED
    with open(path, "a", encoding="ascii") as stream:
        stream.write(dead_letter_id + "\n")
        stream.flush()
        os.fsync(stream.fileno())


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _now() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int((now % 1) * 1000):03d}Z"
