"""What each kind of setting value accepts, and how a value is shown.

Each parser takes the raw string of a COLLECTOR_* variable and returns the
typed value, or raises ValueError saying what the variable accepts
(`load_settings` puts the variable's name in front of it). `show_value` is the
way back: it writes a typed value the way a person would set it, for
`collector settings` and the start-up log line.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Generic, TypeVar

import limits

from ..eventtypes import is_valid_event_type

# How an empty value (off, any, the machine's own) is shown, in every column.
EMPTY = "(empty)"

# ASCII only: `int()` and `float()` also take other scripts' digits ("١٢٣"),
# signs, underscores and exponents, none of which an operator means here.
_WHOLE = re.compile("[0-9]+")
_DECIMAL = re.compile(r"[0-9]+(\.[0-9]*)?|\.[0-9]+")

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Bounded(Generic[T]):
    """A numeric parser with the bounds it checks, which `bounds` reads for docs/configuration.md's table."""

    parse: Callable[[str], T]
    bounds: tuple[float, float | None] | None

    def __call__(self, raw: str) -> T:
        return self.parse(raw)


def whole_number(low: int, high: int | None = None, accepts: str = "") -> Callable[[str], int]:
    """A parser of whole numbers from `low` (to `high`, when given)."""
    accepts = accepts or (f"a whole number from {low} to {high}" if high else f"a whole number of at least {low}")

    def parse(raw: str) -> int:
        text = raw.strip()
        if not _WHOLE.fullmatch(text):
            raise ValueError(accepts)
        value = int(text)
        if value < low or (high is not None and value > high):
            raise ValueError(accepts)
        return value

    return Bounded(parse, (low, high))


# The bounds of each number: what the code can honour, checked at start-up.
# Past the top, a value either breaks something later (a timeout Python cannot
# wait for, a date before year 1) or only makes sense as a typo; each bound is
# explained where it is declared (declared.py), and a test tries both edges.
ipv6_prefix = whole_number(1, 128, "a prefix length from 1 to 128")

# The smallest event the service stores is 192 bytes: a one-character
# eventType plus the eventId, pingId, receivedAt and client it adds (see
# stored_lines in collector/ingest/enrich.py; a test keeps the two in step).
# A limit under it would reject every event; the floor leaves room for a
# client's IPv6 address and a short user agent on top.
MIN_EVENT_BYTES = 256
# A request body, an event and a kept dead-letter body are all held in a
# worker's memory whole (and parsed there), a few times over, by each thread.
MAX_BODY_BYTES = 64 * 1024 * 1024
max_event_bytes = whole_number(
    MIN_EVENT_BYTES,
    MAX_BODY_BYTES,
    accepts=f"a whole number from {MIN_EVENT_BYTES} to {MAX_BODY_BYTES} (the smallest event is 192 bytes as stored)",
)
body_bytes = whole_number(1, MAX_BODY_BYTES)
# Files on disk: a terabyte is past any disk a collector writes to.
disk_bytes = whole_number(1, 1024**4)

YEAR_SECONDS = 365 * 86400


def number(low: float, high: float, unit: str) -> Callable[[str], float]:
    """A parser of decimal numbers of `unit` from `low` to `high`, both included."""
    accepts = f"a number of {unit} from {_plain(low)} to {_plain(high)}"

    def parse(raw: str) -> float:
        text = raw.strip()
        # A long enough number of digits is inf, which is past every bound.
        value = float(text) if _DECIMAL.fullmatch(text) else float("nan")
        if not low <= value <= high:
            raise ValueError(accepts)
        return value

    return Bounded(parse, (low, high))


def bounds(parse: Callable[[str], Any]) -> tuple[float, float | None] | None:
    """The lowest and highest value a numeric parser accepts, for docs/configuration.md's table; None for others."""
    return parse.bounds if isinstance(parse, Bounded) else None


def _plain(bound: float) -> str:
    return str(int(bound)) if float(bound).is_integer() else repr(bound)


def optional(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """An empty value means 'off' (None); anything else must parse."""

    def parse_optional(raw: str) -> Any:
        if not raw.strip():
            return None
        try:
            return parse(raw)
        except ValueError as error:
            raise ValueError(f"empty (off) or {error}") from None

    return Bounded(parse_optional, bounds(parse))


# A longer window makes X-RateLimit-Reset a time no client can read (10^11
# years gave 3110400001765424128); a larger amount is no limit at all.
MAX_RATE_WINDOW_SECONDS = 366 * 86400
MAX_RATE_AMOUNT = 10**9

# The number after '/' or 'per': limits reads "5 per 0 minute" as "5 per
# minute" (a 0 there counts as absent), so it is looked for here.
_PERIOD = re.compile(r"(?:/|per)\s*([0-9]+)", re.IGNORECASE)


def rate_limit(raw: str) -> str:
    try:
        items = limits.parse_many(raw)
    except ValueError:
        items = []
    zero_period = any(int(number) == 0 for number in _PERIOD.findall(raw))
    in_bounds = all(
        1 <= item.amount <= MAX_RATE_AMOUNT and item.get_expiry() <= MAX_RATE_WINDOW_SECONDS for item in items
    )
    if not items or zero_period or not in_bounds:
        raise ValueError(
            f"flask-limiter's notation with amounts from 1 to {MAX_RATE_AMOUNT} and periods from 1 second to "
            f"{MAX_RATE_WINDOW_SECONDS // 86400} days, e.g. '1000 per minute' or '10/second;500/hour'"
        )
    return raw.strip()


def event_types(raw: str) -> frozenset[str]:
    """Empty allows any type; otherwise at least one name, each a valid eventType."""
    if not raw.strip():
        return frozenset()
    names = [name.strip() for name in raw.split(",") if name.strip()]
    # Only commas (",,,") would read as "no list", that is any type: not valid,
    # since whoever wrote it meant to restrict something.
    if not names or not all(is_valid_event_type(name) for name in names):
        raise ValueError("empty (any type) or a comma-separated list of event types of 1-128 printable characters")
    return frozenset(names)


def choice(*allowed: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.strip().lower()
        if value not in allowed:
            raise ValueError("one of " + ", ".join(allowed))
        return value

    return parse


# Processes and threads: past a few hundred a VM runs out of memory (each
# worker is a Python process of ~40 MB) long before it gains throughput.
MAX_WORKERS = 256
_workers = whole_number(1, MAX_WORKERS)
threads = whole_number(1, 256)


def _parse_workers(raw: str) -> int | None:
    """None means 'auto': `Settings.worker_processes()` decides from the rate-limit storage."""
    if raw.strip().lower() == "auto":
        return None
    try:
        return _workers(raw)
    except ValueError:
        raise ValueError(f"'auto' or a whole number from 1 to {MAX_WORKERS}") from None


workers = Bounded(_parse_workers, (1, MAX_WORKERS))


def show_workers(value: int | None) -> str:
    return "auto" if value is None else str(value)


def show_value(value: Any) -> str:
    """A typed value written as an operator would set it: 3600, not 3600.0; ./data, not data."""
    if value is None or value == "" or value == frozenset() or value == ():
        return EMPTY
    if isinstance(value, frozenset):
        return ",".join(sorted(value))
    if isinstance(value, tuple):  # a list whose order counts (COLLECTOR_BOT_PATTERNS: the first match names)
        return ",".join(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, Path):
        # Path drops a leading "./"; put it back so a relative path reads as one.
        text = str(value)
        return text if value.is_absolute() or text.startswith(".") else "./" + text
    return str(value)
