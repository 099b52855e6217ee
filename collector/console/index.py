"""What the console knows of the store, kept up to date by reading only what was added.

The store is append-only: a worker appends to its `.jsonl.open` file, renames
it to `.jsonl` when finished (same inode, same bytes) and may compress it to
`.jsonl.gz` later (the same lines again). So the index remembers, per file
(named without those suffixes, its stem), how many bytes it has read:

- an open file is read from that offset to its last whole line;
- a finished file is read to its end once, and never again;
- a compressed file whose stem was read already is the same lines: skipped;
  one never seen (the console started after it was compressed) is read once.

Each event read adds one to the count of its minute and of its hour (of
`receivedAt`, when it was stored) and event type, a bot's event (stored with
`client.bot`) to the bots' counts too, and goes into a buffer of the newest
events, so that every answer can show people and bots apart, or leave bots
out. A refresh therefore costs what was written since the last one, never the
whole store; files deleted by retention keep their counts until
those minutes are older than the longest series the API answers.

An erasure (`collector events forget`) is the one change in place: it bumps
the store's generation (`store/generation.py`), and the index that sees a new
one forgets everything and reads the store again, so that the erased events
leave the counts and the newest events at the next refresh. (The counts of
files deleted by retention since go with them then.)

Everything kept is bounded, whatever clients send (see the constants below):
the newest events by count and by bytes; the counts by time (a day by the
minute, a week by the hour) and by type, as `/metrics` bounds its labels.
A file that is not a data file (a FIFO, a symbolic link, a gzip bomb, garbage)
is skipped and named by `damaged()`; it never stops the console.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

import orjson

from ..ops.instrument import MAX_EVENT_TYPES
from ..store import datafiles, generation, reading
from .clients import client_address, client_name
from .counts import EXCLUDE, ONLY, TimeCounts, chosen
from .search import Search, parse
from .typenames import TypeNames, top

# The newest events, for the live view and its search (`/api/events`): at most
# this many, and at most RECENT_BYTES of them as counted by `_cost` (the line
# and what is kept beside it). 50,000 events of 0.5 KiB fit; of events at the
# default COLLECTOR_MAX_EVENT_BYTES (32 KiB) about 1,000 do.
RECENT_EVENTS = 50_000
RECENT_BYTES = 32 << 20
# Python's own memory per kept event beyond its strings (the Event object, its
# float, the string and bytes headers, the deque slot), measured with tracemalloc.
EVENT_OVERHEAD_BYTES = 600
# Counts by the minute for the longest per-minute series (a day), by the hour
# for the longest series (a week); an hour of slack each. The API answers past
# a day by the hour, so a week by the minute (10,080 counters per type) is not kept.
MINUTE_BUCKETS = 24 * 60 + 60
HOUR_BUCKETS = 7 * 24 + 1
# Between two reads of the directory, at most this often (many browser tabs
# polling every second cost one refresh).
REFRESH_SECONDS = 0.5


@dataclasses.dataclass
class _File:
    offset: int = 0  # bytes of whole lines read (of the uncompressed file)
    done: bool = False  # finished and read to its end, or damaged: never read again
    bad_lines: int = 0


@dataclasses.dataclass(frozen=True)
class Event:
    """One stored line, with what the live view shows of it."""

    received: float  # epoch seconds of `receivedAt`
    line: bytes
    event_type: str
    event_id: str
    ping_id: str
    client: str
    bot: str | None = None  # the category of the bot that sent it (client.bot), None for a person
    client_name: str = ""  # a bot's, browser's or app's name (clients.py): what the table shows and `client =` finds


def stem(path: Path) -> str:
    """A data file's name without `.jsonl.open`, `.jsonl` or `.jsonl.gz`: the same for all three."""
    name = path.name
    for suffix in (datafiles.OPEN_SUFFIX, datafiles.COMPRESSED_SUFFIX, datafiles.FINISHED_SUFFIX):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


class StoreIndex:
    """Per-minute and per-hour counts by event type, and the newest events, of one data directory."""

    def __init__(
        self,
        data_dir: Path,
        recent: int = RECENT_EVENTS,
        clock: Callable[[], float] = time.time,
        event_types: frozenset[str] = frozenset(),
        recent_bytes: int | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        # Less than RECENT_BYTES when several indexes share the console's budget (stores.py).
        self._recent_bytes_limit = RECENT_BYTES if recent_bytes is None else recent_bytes
        self._clock = clock
        self._types = TypeNames(event_types)
        self._recent: deque[tuple[Event, int]] = deque()
        self._recent_limit = recent
        self._lock = threading.Lock()
        self._refreshed = float("-inf")
        self._kept_since = (0.0, 0.0)  # the oldest minute and hour counted, set at each refresh
        self._generation = generation.read(self.data_dir)
        self._start_over()

    def _start_over(self) -> None:
        """Forget everything read: the store changed in place (an erasure)."""
        self._files: dict[str, _File] = {}
        self._counts = TimeCounts()  # every event
        self._bot_counts = TimeCounts()  # bots' events alone
        self._recent.clear()
        self.recent_bytes = 0  # the kept events' cost (`_cost`), at most its share of RECENT_BYTES
        self.unreadable_lines = 0
        self._damaged: dict[str, str] = {}  # file name -> why it is not read

    # -- reading what was added -------------------------------------------

    def refresh(self, force: bool = False) -> None:
        """Read what the workers appended since the last refresh (at most every REFRESH_SECONDS)."""
        with self._lock:
            now = time.monotonic()
            if not force and now - self._refreshed < REFRESH_SECONDS:
                return
            self._refreshed = now
            self._kept_since = self._oldest()
            if (current := generation.read(self.data_dir)) != self._generation:
                self._generation = current
                self._start_over()
            for path in datafiles.data_files(self.data_dir):
                self._read(path)
            self._forget_old_counts()

    def _read(self, path: Path) -> None:
        state = self._files.setdefault(stem(path), _File())
        if state.done:
            return
        try:
            with datafiles.open_regular(path) as stream:
                stream.seek(state.offset)
                for line in datafiles.bounded_lines(stream):
                    if not line.endswith(b"\n"):
                        break  # the end of an open file may be a write in progress
                    state.offset += len(line)
                    if not self._add(line):
                        state.bad_lines += 1
                        if state.bad_lines >= datafiles.MAX_BAD_LINES:
                            raise datafiles.NotADataFile(f"{state.bad_lines} bad lines: the rest is not read")
        except FileNotFoundError:
            return  # renamed or compressed since listed: read under its new name next time
        except reading.UNREADABLE as error:
            # Damaged, not a data file, or a bomb: `collector events verify` says more.
            self.unreadable_lines += 1
            self._damaged[path.name] = reading.unreadable(error)
            state.done = True
            return
        if datafiles.is_finished(path):
            state.done = True

    def _add(self, line: bytes) -> bool:
        try:
            event = orjson.loads(line)
            received = reading.parse_time(event["receivedAt"])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
            self.unreadable_lines += 1
            return False
        event_type = str(event.get("eventType", ""))
        bot = reading.bot_of(event)
        name = self._types.name(event_type)
        self._counts.add(received, name, self._kept_since)
        if bot is not None:
            self._bot_counts.add(received, name, self._kept_since)
        self._keep(
            Event(
                received=received,
                line=line,
                event_type=event_type,
                event_id=str(event.get("eventId") or ""),
                ping_id=str(event.get("pingId") or ""),
                client=client_address(event.get("client")),
                bot=None if bot is None else str(bot.get("category")),
                client_name=client_name(event.get("client")),
            )
        )
        return True

    def _keep(self, event: Event) -> None:
        cost = _cost(event)
        if cost > self._recent_bytes_limit:
            return  # counted, not kept: it alone would be over the budget
        self._recent.append((event, cost))
        self.recent_bytes += cost
        while len(self._recent) > self._recent_limit or self.recent_bytes > self._recent_bytes_limit:
            _, dropped = self._recent.popleft()
            self.recent_bytes -= dropped

    def _oldest(self) -> tuple[float, float]:
        now = self._clock()
        return now - MINUTE_BUCKETS * 60, now - HOUR_BUCKETS * 3600

    def _forget_old_counts(self) -> None:
        for counts in (self._counts, self._bot_counts):
            counts.forget_before(*self._oldest())

    # -- answers ------------------------------------------------------------

    def newest(
        self, limit: int, event_type: str | None = None, query: Search | str | None = None, bots: str | None = None
    ) -> list[Event]:
        """The newest stored events first, at most `limit`, of `event_type`, that `query` matches (search.py).

        `bots`: `exclude` leaves bots' events out, `only` keeps only them; None keeps every event.
        """
        search = parse(query) if isinstance(query, str) else query
        with self._lock:
            events = sorted((event for event, _ in self._recent), key=lambda event: event.received, reverse=True)
        found = []
        for event in events:
            if event_type is not None and event.event_type != event_type:
                continue
            if bots is not None and (event.bot is not None) != (bots == ONLY):
                continue
            if search is not None and not search.matches(event):
                continue
            found.append(event)
            if len(found) == limit:
                break
        return found

    def series(
        self, minutes: int, step: int, bots: str | None = None, until: float | None = None
    ) -> dict[str, list[list[int]]]:
        """Counts per event type over `minutes` up to `until` (now), in buckets of `step` seconds: [[start, n], ...].

        A step of whole hours is counted from the hourly counts, any other from
        the per-minute ones (kept for a day). At most MAX_EVENT_TYPES types
        are named, those with the most events; the rest are added up as `other`.
        `bots` as for `newest`: people's counts (`exclude`), bots' (`only`), or all.
        """
        last = int((self._clock() if until is None else until) // step) * step
        first = last - (minutes * 60 // step - 1) * step
        buckets = range(first, last + step, step)
        with self._lock:
            every = self._counts.totals(first, last, step)
            of_bots = self._bot_counts.totals(first, last, step) if bots is not None else {}
        totals = top(chosen(every, of_bots, bots), MAX_EVENT_TYPES)
        return {
            event_type: [[start, counts.get(start, 0)] for start in buckets]
            for event_type, counts in sorted(totals.items())
        }

    def top_types(self, minutes: int, limit: int = 10, bots: str | None = None) -> list[tuple[str, int]]:
        """The event types with the most events over the last `minutes` (at most a day); `bots` as for `newest`."""
        oldest = self._clock() - minutes * 60
        with self._lock:
            every, of_bots = self._counts.since(oldest), self._bot_counts.since(oldest)
        total = of_bots if bots == ONLY else every - of_bots if bots == EXCLUDE else every
        return total.most_common(limit)

    def bot_share(self, minutes: int, limit: int = 10) -> list[tuple[str, int, int]]:
        """(type, events, of them bots') for the types with the most events over the last `minutes`."""
        oldest = self._clock() - minutes * 60
        with self._lock:
            every, of_bots = self._counts.since(oldest), self._bot_counts.since(oldest)
        return [(name, count, of_bots[name]) for name, count in every.most_common(limit)]

    def damaged(self) -> dict[str, str]:
        """The files skipped as not data files or damaged (name -> why); each is counted in unreadable_lines."""
        with self._lock:
            return dict(self._damaged)

    def counted_cells(self) -> int:
        """How many (time, event type) counts are kept: what the counts cost in memory."""
        with self._lock:
            return self._counts.cells() + self._bot_counts.cells()


def _cost(event: Event) -> int:
    """What keeping `event` costs, in bytes: its line, the strings kept beside it, Python's overhead."""
    strings = len(event.event_type) + len(event.event_id) + len(event.ping_id) + len(event.client) + len(
        event.client_name
    )
    return len(event.line) + strings + EVENT_OVERHEAD_BYTES
