"""A plan file's text as a JSON document, refusing what JSON parsers let pass: a key named twice, NaN.

Python's `json` (like every JSON parser) keeps the last of two equal keys in
an object, so a type named twice would silently lose its first definition.
Objects are parsed into `_Pairs`, a dict that remembers a repeated key; the
first repeated key in document order is then reported with its pointer.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from .messages import pointer


class DocumentError(ValueError):
    """Not a plan document: why, and where (a JSON pointer, or a line and column for a syntax error)."""

    def __init__(self, reason: str, at: str = "", line: int = 0, column: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.at = at
        self.line = line
        self.column = column


class _Pairs(dict):
    """A parsed JSON object that knows its first repeated key, if any."""

    repeated: str | None = None


def _object(pairs: list[tuple[str, Any]]) -> _Pairs:
    found = _Pairs(pairs)
    if len(found) < len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                found.repeated = key
                break
            seen.add(key)
    return found


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def parse(text: str) -> Any:
    """The JSON document in `text`.

    :raises DocumentError: not JSON (with line and column), or a key repeated in an object (with its pointer).
    """
    try:
        document = json.loads(text, object_pairs_hook=_object, parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        raise DocumentError(f"not JSON: {error.msg}", line=error.lineno, column=error.colno) from None
    except (ValueError, RecursionError) as error:
        raise DocumentError(
            f"not JSON: {error}" if isinstance(error, ValueError) else "not JSON: nested too deeply"
        ) from None
    try:
        for at, key in _repeated(document, []):
            raise DocumentError(f"{key!r} is named twice in one object (a JSON parser would keep only the last)", at=at)
        return _plain(document)
    except RecursionError:  # parsed, but deeper than walking it here allows
        raise DocumentError("not JSON: nested too deeply") from None


def _repeated(value: Any, path: list[str | int]) -> Iterator[tuple[str, str]]:
    """(pointer, key) of each repeated key, in document order."""
    if isinstance(value, _Pairs):
        if value.repeated is not None:
            yield pointer([*path, value.repeated]), value.repeated
        for key, item in value.items():
            yield from _repeated(item, [*path, key])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _repeated(item, [*path, index])


def _plain(value: Any) -> Any:
    """The document with plain dicts, as schema libraries and copies expect."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value
