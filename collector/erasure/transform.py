"""What an erasure does to one stored line: drop it, or (`--anonymise`) replace the person's ids in it.

Either way it notes the eventIds and pingIds of the person's events, for the
idempotency state (`run.py`), which is keyed by them.
"""

from __future__ import annotations

from typing import Any

from .. import jsontext
from . import blocks
from .keyed import hash_id
from .matching import Matcher


class LineTransform:
    """Called on each block of lines of a file rewritten (see blocks.py): the person's lines dropped or changed."""

    def __init__(self, matcher: Matcher, key: bytes | None = None) -> None:
        self.matcher = matcher
        self.key = key  # anonymise with it; None: drop the person's lines
        self.event_ids: set[str] = set()  # as the idempotency state keys them: "keyId eventId" with write keys
        self.ping_ids: set[str] = set()

    def theirs(self, line: bytes) -> dict[str, Any] | None:
        """The person's event in `line`, noted; None for anyone else's line (or a line that is no event)."""
        if not self.matcher.maybe_theirs(line):
            return None
        try:
            event = jsontext.loads(line)
        except jsontext.InvalidJSON:
            return None
        if not self.matcher.fields_of(event):
            return None
        self._note(event)
        return event

    def __call__(self, block: bytes) -> tuple[bytes, int, int]:
        """A block of whole lines without the person's (or with theirs anonymised); lines dropped, changed."""
        return blocks.changing(block, self.matcher.spans(block), self.line)

    def count(self, block: bytes) -> int:
        """The person's events in a block of whole lines (noted, changed nowhere)."""
        return sum(1 for start, end in self.matcher.spans(block) if self.theirs(block[start:end]) is not None)

    def line(self, line: bytes) -> bytes | None:
        """The line to keep in place of `line` (itself when it is not the person's), or None."""
        event = self.theirs(line)
        if event is None:
            return line
        if self.key is None:
            return None
        return jsontext.dumps_line(anonymised(event, self.matcher.fields_of(event), self.key))

    def _note(self, event: dict[str, Any]) -> None:
        client = event.get("client")
        if isinstance(event.get("eventId"), str):
            key_id = client.get("keyId") if isinstance(client, dict) else None
            self.event_ids.add(event["eventId"] if not isinstance(key_id, str) else f"{key_id} {event['eventId']}")
        if isinstance(event.get("pingId"), str):
            self.ping_ids.add(event["pingId"])


def anonymised(event: dict[str, Any], fields: list[str], key: bytes) -> dict[str, Any]:
    """`event` with each of `fields` (holding the person's ids) replaced by its keyed hash and `client.ip` null.

    Everything else stays, the event's time, type and properties included:
    counts by type, by time and of distinct people still hold.
    """
    changed = dict(event)
    for name in fields:
        changed[name] = hash_id(key, event[name])
    if isinstance(event.get("client"), dict):
        changed["client"] = {**event["client"], "ip": None}
    return changed
