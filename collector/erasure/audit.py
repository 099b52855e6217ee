"""The audit log, `erasures.log` in the data directory: one JSON line per erasure.

It records that an erasure happened and what it touched, so that it can be
shown to have been done, and so that copies of those files elsewhere (a
shipper's) can be found: when, what (forget or anonymise), how many events
from which files, how many dead letters and idempotency rows. The ids appear
only as keyed hashes (`keyed.py`): the log must not keep what it erased. To
find whether someone was erased, hash their id with the same key
(`collector events forget --dry-run` prints the hashes) and look for it.

A line is written when an erasure ends, appended and fsynced. A run cut
short (a crash, SIGKILL) writes none, but what it did is not lost to the log:
each file is noted in a journal (`.erasure.journal`: file names and counts,
no ids) just before it is rewritten, and the run that finishes the job puts
what the journal holds in its own line (`cutShort`), then removes the
journal. A file noted may not have been rewritten yet (the kill came first):
the log errs towards naming a file whose copies need looking at, never
towards leaving one out. A dry run writes nothing.
"""

from __future__ import annotations

import hashlib
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


JOURNAL = ".erasure.journal"


def note(data_dir: Path, name: str, events: int) -> None:
    """Journal, durably, that this run is about to rewrite (or remove) one file, of `events` of the person's."""
    fd = os.open(Path(data_dir) / JOURNAL, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
    try:
        os.write(fd, jsontext.dumps_line({"file": name, "events": events}))
        os.fsync(fd)
    finally:
        os.close(fd)


def cut_short(data_dir: Path) -> dict[str, Any] | None:
    """What runs killed before their audit line were doing, from the journal: files and counts; None if nothing."""
    try:
        lines = (Path(data_dir) / JOURNAL).read_bytes().splitlines()
    except FileNotFoundError:
        return None
    files: dict[str, int] = {}
    for line in lines:
        try:
            entry = jsontext.loads(line)
        except jsontext.InvalidJSON:
            continue  # torn by the kill before its file was touched: this run finds that file again
        files[entry["file"]] = max(files.get(entry["file"], 0), entry["events"])
    return {"files": files}


def close_journal(data_dir: Path) -> None:
    """After the audit line is written: the journal's files are in it."""
    (Path(data_dir) / JOURNAL).unlink(missing_ok=True)


def read(data_dir: Path) -> list[dict[str, Any]]:
    """Every entry so far (for tests and tools); a line torn by a crash mid-append is none (see `logged`)."""
    return [entry for _, entry in logged(data_dir)]


def logged(data_dir: Path) -> list[tuple[str, dict[str, Any]]]:
    """Every entry with the SHA-256 of its line: what names it for a tool that must apply each erasure once
    (`collector load postgres`). A line torn by a crash mid-append is no entry (the run that wrote it failed)."""
    try:
        lines = (Path(data_dir) / AUDIT_LOG).read_bytes().splitlines()
    except FileNotFoundError:
        return []
    entries = []
    for line in lines:
        try:
            entries.append((hashlib.sha256(line).hexdigest(), jsontext.loads(line)))
        except jsontext.InvalidJSON:
            continue
    return entries


def files_named(entry: dict[str, Any]) -> set[str]:
    """The files an entry says were rewritten or removed, or may have been (a run cut short), by the names they
    had then (a `.jsonl` may be compressed since, to the same name with `.gz`)."""
    cut_short = entry.get("cutShort") or {}
    return set(entry.get("files", {})) | set(entry.get("removedFiles", [])) | set(cut_short.get("files", {}))
