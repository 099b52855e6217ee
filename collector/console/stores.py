"""The console over several data directories as one store: an index per directory, their answers merged.

Several VMs each write a data directory of their own (docs/scaling-out.md).
One console reads the copies shipped from each (and a VM's own directory
beside them): `collector console --data-dir vm-a vm-b`. Each directory keeps
its own StoreIndex, read incrementally as index.py says, and is named by its
instance (`instance_names`). Every answer merges theirs:

- the newest events: each index's newest, merged by receivedAt, newest first,
  each with its instance; the criteria go to every index unchanged, so that
  what index.py can search for, the console can too;
- the counts (series, top types, people and bots): added up, then bounded
  as one index bounds its own (MAX_EVENT_TYPES named types, the rest `other`);
- the files, free disk, damaged files and unreadable lines: per instance.

With one directory every answer is the index's own, as before there were several.
"""

from __future__ import annotations

import heapq
import itertools
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path, PurePath
from typing import Any

import orjson

from .. import datadir
from ..ops.instrument import MAX_EVENT_TYPES
from ..store import datafiles
from . import index as indexing
from .index import Event, StoreIndex
from .typenames import top

# Each index names at most MAX_EVENT_TYPES types and `other`: asking each for
# this many of its top types gets them all, so the merged top is exact.
EVERY_TYPE = MAX_EVENT_TYPES + 1
# Each directory costs an index of counts of its own (a week of them, by
# type) and a listing at each refresh: a console for a few VMs' copies, not
# for hundreds (`collector events cat --data-dir` reads any number as one stream).
MAX_DIRECTORIES = 16


def instance_names(data_dirs: Sequence[Path]) -> list[str]:
    """Each directory's name (its last component); where names clash, as much of the path as tells them apart.

    `/srv/a/data` and `/srv/b/data` are `a/data` and `b/data`. Links are not
    followed: a directory is named as the operator named it, so a link named
    `vm-a` to a copy is how one labels it otherwise.
    """
    parts = [PurePath(os.path.abspath(data_dir)).parts[1:] for data_dir in data_dirs]
    depths = [1] * len(parts)
    while True:
        names = ["/".join(part[-depth:]) or "/" for part, depth in zip(parts, depths, strict=True)]
        clashes = {name for name, count in Counter(names).items() if count > 1}
        longer = [i for i, name in enumerate(names) if name in clashes and depths[i] < len(parts[i])]
        if not longer:
            return names
        for i in longer:
            depths[i] += 1


class Stores:
    """One StoreIndex per data directory, answering as one; `directories` maps each instance to its directory.

    The bound on the newest events kept (index.RECENT_EVENTS and RECENT_BYTES)
    is the console's, not each directory's: it is split evenly, so that N
    directories hold what one did. Each index then drops its own oldest, under
    its own lock; a quiet directory (a shipped copy) keeps its newest events
    when a busy one writes many.
    """

    def __init__(
        self,
        data_dirs: Sequence[Path],
        event_types: frozenset[str] = frozenset(),
        clock: Callable[[], float] = time.time,
        recent: int | None = None,
        recent_bytes: int | None = None,
    ) -> None:
        unique = datadir.each_once(data_dirs)
        if not 1 <= len(unique) <= MAX_DIRECTORIES:
            raise ValueError(f"the console reads 1 to {MAX_DIRECTORIES} data directories; got {len(unique)}")
        share = len(unique)
        recent = (indexing.RECENT_EVENTS if recent is None else recent) // share
        recent_bytes = (indexing.RECENT_BYTES if recent_bytes is None else recent_bytes) // share
        self.directories = dict(zip(instance_names(unique), unique, strict=True))
        self.indexes = {
            name: StoreIndex(path, recent=recent, clock=clock, event_types=event_types, recent_bytes=recent_bytes)
            for name, path in self.directories.items()
        }

    @property
    def several(self) -> bool:
        return len(self.indexes) > 1

    def refresh(self, force: bool = False) -> None:
        for index in self.indexes.values():
            index.refresh(force)

    def newest(self, limit: int, *args: Any, **criteria: Any) -> list[tuple[str, Event]]:
        """(instance, event) of the newest events first, at most `limit`, each index asked with the criteria.

        The criteria go as they came (StoreIndex.newest says what they mean): a
        search the index learns needs no change here.
        """
        answers = [
            [(name, event) for event in index.newest(limit, *args, **criteria)] for name, index in self.indexes.items()
        ]
        merged = heapq.merge(*answers, key=lambda found: found[1].received, reverse=True)
        return list(itertools.islice(merged, limit))

    def series(self, *args: Any, **criteria: Any) -> dict[str, list[list[int]]]:
        """The indexes' series (asked as StoreIndex.series is) added up, MAX_EVENT_TYPES types named at most."""
        if not self.several:
            return self._only().series(*args, **criteria)
        totals: dict[str, Counter[int]] = {}
        starts: set[int] = set()
        width = 0
        for index in self.indexes.values():
            for event_type, points in index.series(*args, **criteria).items():
                width = len(points)
                starts.update(start for start, _ in points)
                counts = totals.setdefault(event_type, Counter())
                for start, count in points:
                    counts[start] += count
        # Each index reads its clock: a minute may have begun between two of them. The latest window is answered.
        window = sorted(starts)[-width:] if width else []
        kept = top(totals, MAX_EVENT_TYPES)
        return {name: [[start, counts[start]] for start in window] for name, counts in sorted(kept.items())}

    def top_types(self, minutes: int, limit: int = 10, **criteria: Any) -> list[tuple[str, int]]:
        if not self.several:
            return self._only().top_types(minutes, limit, **criteria)
        total: Counter[str] = Counter()
        for index in self.indexes.values():
            total.update(dict(index.top_types(minutes, EVERY_TYPE, **criteria)))
        return total.most_common(limit)

    def bot_share(self, minutes: int, limit: int = 10) -> list[tuple[str, int, int]]:
        if not self.several:
            return self._only().bot_share(minutes, limit)
        events: Counter[str] = Counter()
        of_bots: Counter[str] = Counter()
        for index in self.indexes.values():
            for name, count, bots in index.bot_share(minutes, EVERY_TYPE):
                events[name] += count
                of_bots[name] += bots
        return [(name, count, of_bots[name]) for name, count in events.most_common(limit)]

    def damaged(self) -> dict[str, str]:
        """The files skipped, as index.damaged() names them; with several directories, `<instance>/<file>`."""
        return {
            self._named(instance, file): why
            for instance, index in self.indexes.items()
            for file, why in index.damaged().items()
        }

    def unreadable_lines(self) -> int:
        return sum(index.unreadable_lines for index in self.indexes.values())

    def store_panel(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The store panel (each directory listed once): its files, newest first, their bytes and the free disk
        (the least of the disks, over several); and what /api/overview adds with several, the instances and each
        one's panel (with its unreadable lines and damaged files)."""
        each = {instance: files_of(path) for instance, path in self.directories.items()}
        if not self.several:
            return next(iter(each.values())), {}
        free = [facts["diskFreeBytes"] for facts in each.values() if facts["diskFreeBytes"] is not None]
        files = (({**file, "instance": instance} for file in facts["files"]) for instance, facts in each.items())
        total = {
            "files": sorted(itertools.chain.from_iterable(files), key=lambda file: file["name"], reverse=True),
            "bytes": sum(facts["bytes"] for facts in each.values()),
            "diskFreeBytes": min(free) if free else None,
        }
        stores = [
            {
                "instance": instance,
                **each[instance],
                "unreadableLines": index.unreadable_lines,
                "damagedFiles": index.damaged(),
            }
            for instance, index in self.indexes.items()
        ]
        return total, {"instances": list(self.indexes), "stores": stores}

    def _named(self, instance: str, name: str) -> str:
        return f"{instance}/{name}" if self.several else name

    def _only(self) -> StoreIndex:
        return next(iter(self.indexes.values()))


def shown(instance: str, event: Event, several: bool) -> dict[str, Any]:
    """An event as /api/events answers it: the stored line, and with several directories its `instance`.

    The collector never stores a top-level `instance` (its schema refuses
    unknown fields), so the key added cannot hide one of the event's own.
    """
    stored = orjson.loads(event.line)
    if several:
        stored["instance"] = instance
    return stored


def latest_letters(by_instance: dict[str, list[dict[str, Any]]], limit: int) -> list[dict[str, Any]]:
    """The newest dead letters of every directory first, at most `limit`; with several, each with its instance."""
    if len(by_instance) == 1:
        return next(iter(by_instance.values()))[:limit]
    letters = [{**letter, "instance": instance} for instance, found in by_instance.items() for letter in found]
    return sorted(letters, key=lambda letter: str(letter.get("receivedAt", "")), reverse=True)[:limit]


def files_of(data_dir: Path) -> dict[str, Any]:
    """One directory's data files, newest first (name, bytes, state), their bytes, and its disk's free bytes."""
    files = []
    for path in datafiles.data_files(data_dir):
        try:
            # Not following a symbolic link: a loop would raise, and the index reads none.
            size = path.lstat().st_size
        except OSError:
            continue
        state = "open" if path.name.endswith(datafiles.OPEN_SUFFIX) else (
            "compressed" if path.name.endswith(datafiles.COMPRESSED_SUFFIX) else "finished"
        )
        files.append({"name": path.name, "bytes": size, "state": state})
    try:
        free: int | None = shutil.disk_usage(data_dir).free
    except OSError:
        free = None
    return {"files": files[::-1], "bytes": sum(f["bytes"] for f in files), "diskFreeBytes": free}
