"""What each kind of setting value accepts: one parser per kind.

Each parser takes the raw string of a COLLECTOR_* variable and returns the
typed value, or raises ValueError saying what the variable accepts (settings.py
puts the variable's name in front of it).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import limits


def whole_number(low: int, high: int | None = None, accepts: str = "") -> Callable[[str], int]:
    """A parser of whole numbers from `low` (to `high`, when given)."""
    accepts = accepts or (f"a whole number from {low} to {high}" if high else f"a whole number of at least {low}")

    def parse(raw: str) -> int:
        try:
            value = int(raw.strip())
        except ValueError:
            raise ValueError(accepts) from None
        if value < low or (high is not None and value > high):
            raise ValueError(accepts)
        return value

    return parse


positive_int = whole_number(1)
non_negative_int = whole_number(0)
ipv6_prefix = whole_number(1, 128, "a prefix length from 1 to 128")


def positive_number(raw: str) -> float:
    try:
        value = float(raw.strip())
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise ValueError("a number greater than 0")
    return value


def positive_float(raw: str) -> float:
    try:
        return positive_number(raw)
    except ValueError:
        raise ValueError("a number of seconds greater than 0") from None


def optional(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """An empty value means 'off' (None); anything else must parse."""

    def parse_optional(raw: str) -> Any:
        if not raw.strip():
            return None
        try:
            return parse(raw)
        except ValueError as error:
            raise ValueError(f"empty (off) or {error}") from None

    return parse_optional


def rate_limit(raw: str) -> str:
    try:
        parsed = limits.parse_many(raw)
    except ValueError:
        parsed = []
    if not parsed:
        raise ValueError("flask-limiter's notation, e.g. '1000 per minute' or '10/second;500/hour'")
    return raw.strip()


def storage_uri(raw: str) -> str:
    uri = raw.strip()
    if uri == "memory://":
        return uri
    if uri.startswith("memcached://") and len(uri) > len("memcached://"):
        return uri
    raise ValueError("'memory://' or 'memcached://host:port[,host:port...]'")


# Unicode category Cc is exactly U+0000-U+001F and U+007F-U+009F (C0, DEL, C1).
_CONTROL_CHARACTER = re.compile("[\x00-\x1f\x7f-\x9f]")


def is_valid_event_type(value: str) -> bool:
    """The eventType rule: 1-128 characters, not blank, no control characters (Cc)."""
    return 0 < len(value) <= 128 and not value.isspace() and not _CONTROL_CHARACTER.search(value)


def event_types(raw: str) -> frozenset[str]:
    names = [name.strip() for name in raw.split(",") if name.strip()]
    if not all(is_valid_event_type(name) for name in names):
        raise ValueError("a comma-separated list of event types of 1-128 printable characters")
    return frozenset(names)


def choice(*allowed: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.strip().lower()
        if value not in allowed:
            raise ValueError("one of " + ", ".join(allowed))
        return value

    return parse


def workers(raw: str) -> int:
    """0 means 'auto': decided in gunicorn.conf.py from the rate-limit storage."""
    if raw.strip().lower() == "auto":
        return 0
    try:
        return positive_int(raw)
    except ValueError:
        raise ValueError("'auto' or a whole number of at least 1") from None
