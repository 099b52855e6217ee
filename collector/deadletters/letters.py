"""Dead letters: refused requests kept for a person to look at, and to replay after a fix.

With COLLECTOR_DEAD_LETTER=on, each refused request (not the rate-limited
ones: those are counted, never stored, or an abusive client would fill the
disk) becomes one JSON line under `deadletters/` in the data directory: an
`id`, when, the status, code and message it got, its client, and its body (at
most COLLECTOR_DEAD_LETTER_MAX_BODY_BYTES of it; text when it is UTF-8, else
base64; none for a 401 or a refused preflight, see `DeadLetters`). Each
process appends to its own files.

The cap, exactly: the letter files together never exceed
COLLECTOR_DEAD_LETTER_MAX_BYTES. Every writer, in every process, makes room
for a letter (deleting the oldest files, whoever wrote them) and appends it
under one flock (`.cap.lock`), so no two can each find room for the same
bytes. Files are at most an eighth of the cap, so making room deletes a small
share of the letters. A letter larger than the whole cap is not kept (logged).

`collector deadletter replay` (one at a time: `replay_lock`) sends them
through validation again and stores those that now pass: each replayed id is
recorded in `deadletters/replayed.log` (after its events are written, so a
crash in between errs towards replaying it again, never towards losing it;
see deadletters.replay for why that second replay stores nothing twice). Each
replay prunes that record to the letters still kept: it holds a 37-byte line
per replayed letter still in the directory, a small share of their size.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import datadir, filelock, jsontext
from ..ops.metrics import DEAD_LETTERS, DEAD_LETTERS_UNKEPT
from ..store import datafiles
from .shares import Share
from .shares import size as file_size

logger = logging.getLogger(__name__)

DIRECTORY = "deadletters"
REPLAYED = "replayed.log"
# Held by a writer while it makes room under the cap and appends.
CAP_LOCK = ".cap.lock"
# Held by `collector deadletter replay` for its whole run.
REPLAY_LOCK = "replay.lock"
# Files named like dead letters that could not be read, said once each.
_SKIPPED: set[str] = set()
# Every letter file is named deadletters-*.jsonl (what the readers read): those
# of letters with a body start with their time, the bodiless ones say so.
LETTERS_PREFIX = "deadletters-"
LETTERS_GLOB = "deadletters-[0-9]*.jsonl"
BODILESS_PREFIX = "deadletters-bodiless-"
BODILESS_GLOB = BODILESS_PREFIX + "*.jsonl"
# The bodiless letters' share of COLLECTOR_DEAD_LETTER_MAX_BYTES: 1/8 (the others have the rest). A bodiless
# letter is some 400 bytes: the default cap's share keeps thousands of the latest.
BODILESS_SHARE = 8
# Bodiless letters kept per second per process. They come before the rate limit, so a flood of them would
# otherwise cost a locked write each (every process appends under one flock): past this many, a flood costs a
# count. Twenty a second is far more detail than anyone reads of one misconfigured page or revoked key.
BODILESS_PER_SECOND = 20


class DeadLetters:
    """This process's dead-letter files, capped with the others in the directory.

    Two shares of the cap, each with its own files: the letters of requests
    whose body was read (what a replay may need), and, in an eighth of the cap,
    the letters without a body of requests refused at the door (a refused CORS
    preflight, a 401). Those come before the rate limit, so a client can send
    them as fast as it likes: in a share of their own, a flood of them pushes
    out only their like, never a letter a replay needs.
    """

    def __init__(
        self, data_dir: Path, host_name: str, max_body_bytes: int, max_bytes: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.directory = Path(data_dir) / DIRECTORY
        self.host_name = host_name
        self.max_body_bytes = max_body_bytes
        self.max_bytes = max_bytes
        bodiless = max_bytes // BODILESS_SHARE
        self._shares = {
            False: Share(LETTERS_PREFIX, LETTERS_GLOB, max_bytes - bodiless),
            True: Share(BODILESS_PREFIX, BODILESS_GLOB, bodiless),
        }
        self._clock = clock
        self._bodiless_second = (0, 0)  # (the second, bodiless letters kept in it)
        self._lock = threading.Lock()
        self._failing = False
        self._warned_too_large = False

    @property
    def file_bytes(self) -> int:
        """How large a file of letters with a body grows before a new one is started."""
        return self._shares[False].file_bytes

    @file_bytes.setter
    def file_bytes(self, value: int) -> None:
        self._shares[False].file_bytes = value

    def record(self, *, body: bytes | None, status: int, code: str, message: str, facts: dict[str, Any]) -> None:
        """Keep one refused request; a failure to keep it is logged (once per outage), never raised to the client."""
        self._keep(body_fields(body, self.max_body_bytes), status, code, message, facts, bodiless=False)

    def record_bodiless(self, *, status: int, code: str, message: str, facts: dict[str, Any]) -> None:
        """Keep a request refused before its body was read (a preflight, a 401), in the bodiless share of the cap.

        At most BODILESS_PER_SECOND a second in this process (a fixed window; threads may let one or two more
        by): past that, only counted.
        """
        second = int(self._clock())
        started, kept = self._bodiless_second
        kept = kept if started == second else 0
        if kept >= BODILESS_PER_SECOND:
            DEAD_LETTERS_UNKEPT.inc()
            return
        self._bodiless_second = (second, kept + 1)
        self._keep(body_fields(None, 0), status, code, message, facts, bodiless=True)

    def _keep(
        self, body: dict[str, Any], status: int, code: str, message: str, facts: dict[str, Any], *, bodiless: bool
    ) -> None:
        entry: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "receivedAt": _now(),
            "status": status,
            "code": code,
            "message": message,
            **facts,
            **body,
        }
        line = jsontext.dumps_line(entry)
        share = self._shares[bodiless]
        if len(line) > share.max_bytes:
            if not self._warned_too_large:  # once per process: a setting to fix, not an outage
                self._warned_too_large = True
                logger.warning("a dead letter of %d bytes is larger than COLLECTOR_DEAD_LETTER_MAX_BYTES "
                               "(its share: %d): not kept, nor any such letter (logged once)",
                               len(line), share.max_bytes)
            return
        try:
            with self._lock:
                self._append(share, line)
        except OSError as error:
            if not self._failing:  # once per outage, not once per request
                self._failing = True
                logger.warning("could not keep a dead letter in %s: %s; "
                               "not logged again until it works", self.directory, error)
            return
        DEAD_LETTERS.inc()
        if self._failing:
            self._failing = False
            logger.warning("dead letters kept again in %s", self.directory)

    def _append(self, share: Share, line: bytes) -> None:
        datadir.check(self.directory.parent)  # never re-created: see collector/datadir.py
        self.directory.mkdir(exist_ok=True)
        # Every process writes under one flock, so the cap holds for their sum
        # at every moment: room is made before a letter is written, never after.
        with cap_lock(self.directory):
            share.make_room(self.directory, len(line))
            path = share.path
            size = -1 if path is None or share.pid != os.getpid() else file_size(path, missing=-1)
            # A new file when this process has none, when the cap deleted its
            # file (a newest letter in an oldest-named file would go first), or past file_bytes.
            if path is None or size < 0 or (size > 0 and size + len(line) > share.file_bytes):
                stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
                path = share.path = self.directory / f"{share.prefix}{stamp}-{self.host_name}-{os.getpid()}.jsonl"
                share.pid = os.getpid()
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o640)
            try:
                datafiles.write_all(fd, line)
            finally:
                os.close(fd)


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


def prune_replayed(data_dir: Path, kept_ids: set[str]) -> None:
    """Forget the replayed ids of letters no longer kept (the cap deleted them), so the record stays bounded.

    Call it under `replay_lock`: the record is replaced whole (write, fsync, rename).
    """
    path = Path(data_dir) / DIRECTORY / REPLAYED
    done = replayed_ids(data_dir)
    if done <= kept_ids:
        return
    fresh = path.with_name(REPLAYED + ".new")
    with open(fresh, "w", encoding="ascii") as stream:
        stream.write("".join(f"{letter_id}\n" for letter_id in sorted(done & kept_ids)))
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(fresh, path)


class ReplayRunning(RuntimeError):
    """Another `collector deadletter replay` holds the replay lock."""


@contextlib.contextmanager
def replay_lock(data_dir: Path) -> Iterator[None]:
    """Hold the replay lock of `data_dir` for the block: one replay at a time, or each would store every letter.

    :raises ReplayRunning: another replay holds it (it is never waited for).
    """
    path = Path(data_dir) / DIRECTORY / REPLAY_LOCK
    path.parent.mkdir(parents=True, exist_ok=True)
    running = f"another `collector deadletter replay` is running: it holds the lock on {path}"
    with filelock.flocked(path, busy=lambda: ReplayRunning(running)):
        yield


@contextlib.contextmanager
def cap_lock(directory: Path) -> Iterator[None]:
    """The lock every process appends letters under (and whatever rewrites them takes): the cap holds for
    their sum at every moment."""
    with filelock.flocked(Path(directory) / CAP_LOCK):
        yield


def _now() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int((now % 1) * 1000):03d}Z"
