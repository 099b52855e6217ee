"""The console's search (`GET /api/events?q=...`): a few `field = value` terms, all of which an event must match.

    userId = u1                     a stored field: the text of its JSON value equals the value
    properties.plan = pro           a field inside an object, by a dotted path (a list's items by 0, 1, ...)
    user = u1                       userId, else anonymousId (the table's "user")
    client = Firefox                the client's name as the table shows it (clients.py), any case
    3f2c9e0a-...                    a bare word: pingId or eventId equal to it, as before terms existed
    properties.name = "Ann Lee"     a quoted value holds spaces and `=`; `\\"` and `\\\\` inside it

Terms are separated by spaces and ANDed. The value is compared with the text
of the stored JSON value: a string as its characters (case matters), any
other value as its compact JSON (`3`, `0.5`, `true`, `["a"]`), so `seats = 3`
does not match a stored `3.0`. A missing field, or a stored null, never matches.
The search runs over the newest events the console keeps (index.py), not the
whole store: `collector events query` is for that.
"""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING, Any, NoReturn

from .. import jsontext
from ..errors import INVALID_QUERY, CollectorError

if TYPE_CHECKING:
    from .index import Event

# Enough for any question a person types; each term costs a look into every kept event.
MAX_TERMS = 8
# `=`, a quoted value, or a word (which may hold quotes after its first character: ["a"]).
_TOKEN = re.compile(r'\s*(?:(=)|"((?:[^"\\]|\\.)*)("?)|([^\s="][^\s=]*))')
_ESCAPE = re.compile(r"\\(.)")
# A string of printable ASCII other than `"` and `\` is written as itself by
# every JSON writer the store has known (orjson, the standard library): a line
# without those bytes cannot hold it, and need not be parsed.
_VERBATIM = re.compile(r'[ !#-\[\]-~]*')
_SYNTAX = 'write `field = value` terms separated by spaces (properties.plan = pro), or a pingId or eventId'


@dataclasses.dataclass(frozen=True)
class Term:
    """`path = value`; an empty path is a bare word (pingId or eventId)."""

    path: tuple[str, ...]
    value: str

    def matches(self, event: Event, stored: Any) -> bool:
        if not self.path:
            return self.value in (event.ping_id, event.event_id)
        if self.path == ("client",):
            return event.client_name.casefold() == self.value.casefold()
        if self.path == ("user",):
            user = _at(stored, ("userId",))
            return _text(user if user is not None else _at(stored, ("anonymousId",))) == self.value
        return _text(_at(stored, self.path)) == self.value

    def needs_line(self) -> bool:
        return bool(self.path) and self.path != ("client",)

    def may_be_in(self, line: bytes) -> bool:
        """False only when the line cannot hold the value, so that most lines are never parsed."""
        return not _VERBATIM.fullmatch(self.value) or self.value.encode() in line


@dataclasses.dataclass(frozen=True)
class Search:
    """Terms ANDed, and the time range of `receivedAt` (from included, to excluded)."""

    terms: tuple[Term, ...] = ()
    since: float | None = None
    until: float | None = None

    def matches(self, event: Event) -> bool:
        if (self.since is not None and event.received < self.since) or (
            self.until is not None and event.received >= self.until
        ):
            return False
        stored = None
        for term in self.terms:
            if term.needs_line():
                if not term.may_be_in(event.line):
                    return False
                if stored is None:
                    stored = jsontext.loads(event.line)
            if not term.matches(event, stored):
                return False
        return True


def parse(query: str, since: float | None = None, until: float | None = None) -> Search:
    """The Search that `query` says, within the time range.

    :raises CollectorError: invalid_query, saying what is wrong and what to write.
    """
    tokens = _tokens(query)
    terms = []
    position = 0
    while position < len(tokens):
        kind, text = tokens[position]
        if kind == "=":
            _refuse(f"`=` needs a field before it; {_SYNTAX}")
        if position + 1 < len(tokens) and tokens[position + 1][0] == "=":
            if kind != "word":
                _refuse(f'a field is a name, not a quoted "{text}"; {_SYNTAX}')
            if position + 2 >= len(tokens) or tokens[position + 2][0] == "=":
                _refuse(f"`{text} =` needs a value after it; {_SYNTAX}")
            terms.append(Term(_path(text), tokens[position + 2][1]))
            position += 3
        else:
            terms.append(Term((), text))
            position += 1
    if len(terms) > MAX_TERMS:
        _refuse(f"{len(terms)} terms; give at most {MAX_TERMS} terms")
    return Search(tuple(terms), since, until)


def _tokens(query: str) -> list[tuple[str, str]]:
    """("=", "="), ("word", text) or ("quoted", text without its quotes and escapes)."""
    tokens = []
    position = 0
    while query[position:].strip():
        found = _TOKEN.match(query, position)
        if found is None:  # pragma: no cover - every character starts one of the alternatives
            _refuse(f"cannot read {query[position:]!r}; {_SYNTAX}")
        equals, quoted, closed, word = found.groups()
        if equals:
            tokens.append(("=", "="))
        elif word is not None:
            tokens.append(("word", word))
        elif not closed:
            _refuse('a quoted value needs its closing `"`; put `\\"` for a quote inside it')
        else:
            tokens.append(("quoted", _ESCAPE.sub(r"\1", quoted)))
        position = found.end()
    return tokens


def _path(field: str) -> tuple[str, ...]:
    path = tuple(field.split("."))
    if not all(path):
        _refuse(f"the field {field!r} has an empty name between its dots; write a path like properties.plan")
    return path


def _at(stored: Any, path: tuple[str, ...]) -> Any:
    value = stored
    for name in path:
        if isinstance(value, dict):
            value = value.get(name)
        elif isinstance(value, list) and name.isascii() and name.isdigit() and int(name) < len(value):
            value = value[int(name)]
        else:
            return None
    return value


def _text(value: Any) -> str | None:
    if value is None:
        return None  # a missing field, or a stored null: neither equals a value typed ("null" is not searched)
    if isinstance(value, str):
        return value
    return jsontext.dumps_line(value)[:-1].decode()


def _refuse(message: str) -> NoReturn:
    raise CollectorError(INVALID_QUERY, f"query parameter q: {message}")
