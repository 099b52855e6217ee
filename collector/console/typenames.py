"""Which event types the console counts under their own name: as many as /metrics labels, the rest as `other`.

Event types come from clients: without a bound, one sending random types
would grow the console's counts, and its `/api/series` answers, without end.
"""

from __future__ import annotations

from collections import Counter

from ..ops.instrument import MAX_EVENT_TYPES, OTHER


class TypeNames:
    """The event types counted under their own name, as /metrics labels them (collector/ops/instrument.py).

    With COLLECTOR_EVENT_TYPES, its types; without, the first MAX_EVENT_TYPES
    read (oldest files first); any other type is counted as `other`.
    """

    def __init__(self, allowed: frozenset[str]) -> None:
        self._allowed = allowed
        self._named: set[str] = set()

    def name(self, event_type: str) -> str:
        if event_type in self._named:
            return event_type
        if self._allowed and event_type not in self._allowed:
            return OTHER
        if not self._allowed and len(self._named) >= MAX_EVENT_TYPES:
            return OTHER
        self._named.add(event_type)
        return event_type


def top(totals: dict[str, Counter[int]], limit: int) -> dict[str, Counter[int]]:
    """The `limit` types with the most events, and the rest added up as `other`."""
    if len(totals.keys() - {OTHER}) <= limit:
        return totals
    ranked = sorted(totals, key=lambda event_type: (-sum(totals[event_type].values()), event_type))
    kept = {event_type: totals[event_type] for event_type in ranked[:limit] if event_type != OTHER}
    other = Counter(totals.get(OTHER, Counter()))
    for event_type in ranked[limit:]:
        if event_type != OTHER:
            other.update(totals[event_type])
    kept[OTHER] = other
    return kept
