"""Whose is an event: the ids a request names, matched against a stored event or a dead letter.

A stored event names its person in three top-level fields, `userId`,
`anonymousId` and `sessionId` (the schema's; Segment's calls map to the same).
An id given as a user id is looked for in `userId` only, and so on: a session
id that happens to equal someone else's user id erases nobody else's events.
Ids read from a file (`--ids-file`) carry no kind, and are looked for in all
three fields.

Reading every line of a gigabyte store as JSON would cost far more than
reading the files; an id in a line is almost always written as its plain
bytes, so a line that does not hold any id's bytes is passed over unparsed
(`maybe_theirs`): the collector writes every stored line itself (orjson,
UTF-8, escaping only quotes, backslashes and control characters). An id
holding one of those turns the shortcut off.
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Iterable
from typing import Any

from .. import jsontext
from . import blocks

FIELDS = ("userId", "anonymousId", "sessionId")


@dataclasses.dataclass(frozen=True)
class Ids:
    """The ids of one person, by the field each is looked for in; `any_field` in all of them."""

    user: frozenset[str] = frozenset()
    anonymous: frozenset[str] = frozenset()
    session: frozenset[str] = frozenset()
    any_field: frozenset[str] = frozenset()

    @classmethod
    def of(
        cls, user: Iterable[str] = (), anonymous: Iterable[str] = (), session: Iterable[str] = (),
        any_field: Iterable[str] = (),
    ) -> Ids:
        return cls(frozenset(user), frozenset(anonymous), frozenset(session), frozenset(any_field))

    def __bool__(self) -> bool:
        return bool(self.user or self.anonymous or self.session or self.any_field)

    def by_field(self) -> dict[str, frozenset[str]]:
        """The ids each field is matched against."""
        return {
            "userId": self.user | self.any_field,
            "anonymousId": self.anonymous | self.any_field,
            "sessionId": self.session | self.any_field,
        }

    def every(self) -> frozenset[str]:
        return self.user | self.anonymous | self.session | self.any_field


class Matcher:
    """Matches stored lines and events against one person's `Ids`."""

    def __init__(self, ids: Ids) -> None:
        self.fields = ids.by_field()
        every = ids.every()
        # Plain ids are stored as their own UTF-8 bytes inside the line's JSON string.
        self._needles = [value.encode("utf-8", "surrogatepass") for value in every]
        self._shortcut = all(_plain(value) for value in every)

    def maybe_theirs(self, line: bytes) -> bool:
        """False when `line` surely holds none of the ids (so it need not be parsed)."""
        return not self._shortcut or any(needle in line for needle in self._needles)

    def spans(self, block: bytes) -> list[tuple[int, int]]:
        """(start, end) of the lines of a block of whole lines that may be the person's, in order.

        Found by searching the block for each id's bytes, so that a block of
        other people's lines costs a few `bytes.find`, not a test per line.
        """
        if not self._shortcut:
            return blocks.line_spans(block)
        found: set[tuple[int, int]] = set()
        for needle in self._needles:
            at = block.find(needle)
            while at >= 0:
                start = block.rfind(b"\n", 0, at) + 1
                end = block.find(b"\n", at)
                end = len(block) if end < 0 else end + 1
                found.add((start, end))
                at = block.find(needle, end)
        return sorted(found)

    def holds_any(self, data: bytes) -> bool:
        """Whether any id's bytes occur anywhere in `data` (for text that is no event: torn lines)."""
        return any(needle in data for needle in self._needles)

    def fields_of(self, event: Any) -> list[str]:
        """The fields of `event` that hold one of the ids (none: not theirs)."""
        if not isinstance(event, dict):
            return []
        return [name for name, wanted in self.fields.items() if event.get(name) in wanted]

    def line_is_theirs(self, line: bytes) -> bool:
        """Whether a stored line is the person's event; a line that is no JSON object is nobody's."""
        if not self.maybe_theirs(line):
            return False
        try:
            return bool(self.fields_of(jsontext.loads(line)))
        except jsontext.InvalidJSON:
            return False

    def letter_is_theirs(self, letter: dict[str, Any]) -> bool:
        """Whether a dead letter holds the person's data: an event of its body that names them,
        or, for a body that is not JSON (refused for that), any of the ids as a JSON string in it.

        A dead letter is a refused request's raw body: erring towards deleting
        another's letter costs a copy of a refused request; erring the other
        way would keep the person's data.
        """
        body = _body_bytes(letter)
        if body is None:
            return False
        # No shortcut: a body is the client's own text, where an id may be written with escapes.
        try:
            payload = jsontext.loads(body)
        except jsontext.InvalidJSON:
            return any(needle in body for needle in self._quoted())
        return any(self.fields_of(event) for event in _events_of(payload)) or any(
            needle in body for needle in self._quoted()
        )

    def _quoted(self) -> list[bytes]:
        return [b'"' + needle + b'"' for needle in self._needles]


def _plain(value: str) -> bool:
    return bool(value) and all(char >= " " and char not in '"\\' for char in value)


def _body_bytes(letter: dict[str, Any]) -> bytes | None:
    if isinstance(letter.get("body"), str):
        return letter["body"].encode("utf-8", "surrogatepass")
    if isinstance(letter.get("bodyBase64"), str):
        try:
            return base64.b64decode(letter["bodyBase64"])
        except ValueError:
            return None
    return None


def _events_of(payload: Any) -> list[Any]:
    """The events of a request body: the collector's `messageBody`, a Segment `batch`, or one Segment call."""
    if not isinstance(payload, dict):
        return []
    for key in ("messageBody", "batch"):
        if isinstance(payload.get(key), list):
            return list(payload[key])
    return [payload]
