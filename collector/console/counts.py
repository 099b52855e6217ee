"""Counts of stored events by event type, per minute (for a day) and per hour (for a week).

The console's index keeps two: every event's, and the bots' alone (events
stored with `client.bot`, see docs/bots.md), so that it can show people and
bots apart, or leave bots out, without a second pass over the store.
"""

from __future__ import annotations

from collections import Counter

# `bots=` of the console's API: every event without it.
EXCLUDE, ONLY = "exclude", "only"


class TimeCounts:
    """Per-minute and per-hour counts by event type name."""

    def __init__(self) -> None:
        self.minutes: dict[int, Counter[str]] = {}
        self.hours: dict[int, Counter[str]] = {}

    def add(self, received: float, name: str, kept_since: tuple[float, float]) -> None:
        # Counts older than those kept are not made at all: reading a month of
        # files at start-up costs no memory for the weeks the API never answers.
        oldest_minute, oldest_hour = kept_since
        minute = int(received // 60) * 60
        if minute >= oldest_minute:
            _bucket(self.minutes, minute)[name] += 1
        hour = minute - minute % 3600
        if hour >= oldest_hour:
            _bucket(self.hours, hour)[name] += 1

    def forget_before(self, oldest_minute: float, oldest_hour: float) -> None:
        for counts, oldest in ((self.minutes, oldest_minute), (self.hours, oldest_hour)):
            for start in [start for start in counts if start < oldest]:
                del counts[start]

    def totals(self, first: int, last: int, step: int) -> dict[str, Counter[int]]:
        """Per type, the counts in buckets of `step` seconds from `first` to `last` (hourly counts for whole hours)."""
        totals: dict[str, Counter[int]] = {}
        source = self.hours if step % 3600 == 0 else self.minutes
        for start, counts in source.items():
            if start < first or start > last + step:
                continue
            bucket = int(start // step) * step
            for event_type, count in counts.items():
                totals.setdefault(event_type, Counter())[bucket] += count
        return totals

    def since(self, oldest: float) -> Counter[str]:
        """Per type, the events of the minutes that end after `oldest`."""
        total: Counter[str] = Counter()
        for minute, counts in self.minutes.items():
            if minute + 60 > oldest:
                total.update(counts)
        return total

    def cells(self) -> int:
        return sum(len(counts) for source in (self.minutes, self.hours) for counts in source.values())


def chosen(every: dict[str, Counter], bots: dict[str, Counter], choice: str | None) -> dict[str, Counter]:
    """Every event's counts, the bots' only (`only`), or the people's (`exclude`: a type only bots sent is left out)."""
    if choice == ONLY:
        return bots
    if choice == EXCLUDE:
        people = {name: counts - bots.get(name, Counter()) for name, counts in every.items()}
        return {name: counts for name, counts in people.items() if counts}
    return every


def _bucket(counts: dict[int, Counter[str]], start: int) -> Counter[str]:
    bucket = counts.get(start)
    if bucket is None:
        bucket = counts[start] = Counter()
    return bucket
