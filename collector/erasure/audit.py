"""The audit log, `erasures.log` in the data directory: one JSON line per erasure.

It records that an erasure happened and what it touched, so that it can be
shown to have been done, and so that copies of those files elsewhere (a
shipper's) can be found: when, what (forget or anonymise), how many events
from which files, how many dead letters and idempotency rows. The ids appear
only as keyed hashes (`keyed.py`): the log must not keep what it erased. To
find whether someone was erased, hash their id with the same key
(`collector events forget --dry-run` prints the hashes) and look for it.

A line is written when an erasure ends, appended and fsynced. A run cut
short (a crash, SIGKILL) writes none; the run that finishes its job writes
its own, with what it found left to do. A dry run writes nothing.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from .. import jsontext
from .keyed import hash_id
from .lock import AUDIT_LOG
from .matching import Ids


def now() -> str:
    """The time an erasure is logged at, as `receivedAt` is written: 2026-12-06T07:30:00.123Z."""
    moment = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(moment)) + f".{int(moment % 1 * 1000):03d}Z"


def hashed_ids(ids: Ids, key: bytes) -> dict[str, list[str]]:
    """The ids as the log keeps them: keyed hashes, by the field each was looked for in."""
    kinds = {"userId": ids.user, "anonymousId": ids.anonymous, "sessionId": ids.session, "anyField": ids.any_field}
    return {kind: sorted(hash_id(key, value) for value in values) for kind, values in kinds.items() if values}


def append(data_dir: Path, entry: dict[str, Any]) -> None:
    """Append one entry as a line, durably."""
    fd = os.open(Path(data_dir) / AUDIT_LOG, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
    try:
        os.write(fd, jsontext.dumps_line(entry))
        os.fsync(fd)
    finally:
        os.close(fd)


def read(data_dir: Path) -> list[dict[str, Any]]:
    """Every entry so far (for tests and tools)."""
    try:
        lines = (Path(data_dir) / AUDIT_LOG).read_bytes().splitlines()
    except FileNotFoundError:
        return []
    return [jsontext.loads(line) for line in lines if line.strip()]
