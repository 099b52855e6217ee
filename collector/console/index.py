"""What the console knows of the store, kept up to date by reading only what was added.

The store is append-only: a worker appends to its `.jsonl.open` file, renames
it to `.jsonl` when finished (same inode, same bytes) and may compress it to
`.jsonl.gz` later (the same lines again). So the index remembers, per file
(named without those suffixes, its stem), how many bytes it has read:

- an open file is read from that offset to its last whole line;
- a finished file is read to its end once, and never again;
- a compressed file whose stem was read already is the same lines: skipped;
  one never seen (the console started after it was compressed) is read once.

Each event read adds one to the count of its minute (of `receivedAt`, when it
was stored) and event type, and goes into a bounded buffer of the newest
events. A refresh therefore costs what was written since the last one, never
the whole store; files deleted by retention keep their counts until those
minutes are older than the longest series the API answers.
"""

from __future__ import annotations

import dataclasses
import gzip
import threading
import time
from collections import Counter, deque
from pathlib import Path
from typing import Any

import orjson

from ..store import datafiles, reading

# Events kept for the live view and its search (`/api/events`): about 0.5 KiB
# each as stored, so some 25 MiB at most.
RECENT_EVENTS = 50_000
# Counts older than this are dropped: the longest series the API answers.
KEEP_MINUTES = 7 * 24 * 60 + 60
# Between two reads of the directory, at most this often (many browser tabs
# polling every second cost one refresh).
REFRESH_SECONDS = 0.5


@dataclasses.dataclass
class _File:
    offset: int = 0  # bytes of whole lines read (of the uncompressed file)
    done: bool = False  # finished and read to its end: never read again


@dataclasses.dataclass(frozen=True)
class Event:
    """One stored line, with what the live view shows of it."""

    received: float  # epoch seconds of `receivedAt`
    line: bytes
    event_type: str
    event_id: str
    ping_id: str
    client: str


def stem(path: Path) -> str:
    """A data file's name without `.jsonl.open`, `.jsonl` or `.jsonl.gz`: the same for all three."""
    name = path.name
    for suffix in (datafiles.OPEN_SUFFIX, datafiles.COMPRESSED_SUFFIX, datafiles.FINISHED_SUFFIX):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


class StoreIndex:
    """Per-minute counts by event type, and the newest events, of one data directory."""

    def __init__(self, data_dir: Path, recent: int = RECENT_EVENTS, clock=time.time) -> None:
        self.data_dir = Path(data_dir)
        self._clock = clock
        self._files: dict[str, _File] = {}
        self._minutes: dict[int, Counter[str]] = {}
        self._recent: deque[Event] = deque(maxlen=recent)
        self._lock = threading.Lock()
        self._refreshed = float("-inf")
        self.unreadable_lines = 0

    # -- reading what was added -------------------------------------------

    def refresh(self, force: bool = False) -> None:
        """Read what the workers appended since the last refresh (at most every REFRESH_SECONDS)."""
        with self._lock:
            now = time.monotonic()
            if not force and now - self._refreshed < REFRESH_SECONDS:
                return
            self._refreshed = now
            for path in datafiles.data_files(self.data_dir):
                self._read(path)
            self._forget_old_minutes()

    def _read(self, path: Path) -> None:
        state = self._files.setdefault(stem(path), _File())
        if state.done:
            return
        compressed = path.name.endswith(datafiles.COMPRESSED_SUFFIX)
        finished = datafiles.is_finished(path)
        try:
            with gzip.open(path, "rb") if compressed else open(path, "rb") as stream:
                stream.seek(state.offset)
                data = stream.read()
        except FileNotFoundError:
            return  # renamed or compressed since listed: read under its new name next time
        except (OSError, EOFError):
            self.unreadable_lines += 1  # a damaged file: `collector events verify` names it
            state.done = True
            return
        # Only whole lines: the end of an open file may be a write in progress.
        whole = data.rfind(b"\n") + 1
        for line in data[:whole].split(b"\n")[:-1]:
            self._add(line + b"\n")
        state.offset += whole
        if finished:
            state.done = True

    def _add(self, line: bytes) -> None:
        try:
            event = orjson.loads(line)
            received = reading.parse_time(event["receivedAt"])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
            self.unreadable_lines += 1
            return
        event_type = str(event.get("eventType", ""))
        minute = int(received // 60) * 60
        self._minutes.setdefault(minute, Counter())[event_type] += 1
        self._recent.append(
            Event(
                received=received,
                line=line,
                event_type=event_type,
                event_id=str(event.get("eventId") or ""),
                ping_id=str(event.get("pingId") or ""),
                client=_client(event.get("client")),
            )
        )

    def _forget_old_minutes(self) -> None:
        oldest = self._clock() - KEEP_MINUTES * 60
        for minute in [m for m in self._minutes if m < oldest]:
            del self._minutes[minute]

    # -- answers ------------------------------------------------------------

    def newest(self, limit: int, event_type: str | None = None, query: str | None = None) -> list[Event]:
        """The newest stored events first, at most `limit`, of `event_type`, with `query` as eventId or pingId."""
        with self._lock:
            events = sorted(self._recent, key=lambda event: event.received, reverse=True)
        found = []
        for event in events:
            if event_type is not None and event.event_type != event_type:
                continue
            if query is not None and query not in (event.event_id, event.ping_id):
                continue
            found.append(event)
            if len(found) == limit:
                break
        return found

    def series(self, minutes: int, step: int) -> dict[str, list[list[int]]]:
        """Counts per event type over the last `minutes`, in buckets of `step` seconds: [[start, count], ...]."""
        now = self._clock()
        last = int(now // step) * step
        first = last - (minutes * 60 // step - 1) * step
        buckets = range(first, last + step, step)
        totals: dict[str, Counter[int]] = {}
        with self._lock:
            for minute, counts in self._minutes.items():
                if minute < first or minute > last + step:
                    continue
                bucket = int(minute // step) * step
                for event_type, count in counts.items():
                    totals.setdefault(event_type, Counter())[bucket] += count
        return {event_type: [[start, counts.get(start, 0)] for start in buckets] for event_type, counts in sorted(totals.items())}

    def top_types(self, minutes: int, limit: int = 10) -> list[tuple[str, int]]:
        oldest = self._clock() - minutes * 60
        total: Counter[str] = Counter()
        with self._lock:
            for minute, counts in self._minutes.items():
                if minute + 60 > oldest:
                    total.update(counts)
        return total.most_common(limit)

    def known_types(self) -> list[str]:
        with self._lock:
            return sorted({event_type for counts in self._minutes.values() for event_type in counts})


def _client(client: Any) -> str:
    """Who sent it, in a few words: the address kept, else the key's id, else the User-Agent."""
    if not isinstance(client, dict):
        return ""
    return str(client.get("ip") or client.get("keyId") or client.get("userAgent") or "")
