"""A team's own bot patterns (COLLECTOR_BOT_PATTERNS): parsed, checked and matched.

The value is comma-separated regular expressions, matched case-insensitively
anywhere in the User-Agent (`re.search`); a match makes the agent a bot of
category `custom`, named by the text matched.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .bot import CUSTOM, MAX_NAME_LENGTH, Bot

# Bounds. Each pattern is tried on every new User-Agent (not on every request:
# the classifier caches by agent), so the list is for a team's few own agents
# (its uptime checker, its scrapers), not for a second bot list: 50 of them, of
# at most 200 characters each, is plenty for that and keeps a cold
# classification within a few patterns' worth of work.
MAX_PATTERNS = 50
MAX_PATTERN_LENGTH = 200

# A comma separates patterns, so `x{1,3}` arrives as `x{1` and `3}`, both valid
# and both wrong: refuse the first half rather than match something else.
_SPLIT_REPEAT = re.compile(r"\{\d*$")


def parse_patterns(raw: str) -> tuple[str, ...]:
    """The patterns of a COLLECTOR_BOT_PATTERNS value (empty: none), each checked, in order.

    :raises ValueError: one line naming the first bad pattern and why.
    """
    if not raw.strip():
        return ()
    patterns = tuple(piece.strip() for piece in raw.split(",") if piece.strip())
    # Only commas (",,") would read as "no patterns": refused, as for
    # COLLECTOR_EVENT_TYPES, since whoever wrote it meant to name something.
    if not patterns:
        raise ValueError("empty (no patterns of the team's own) or comma-separated regular expressions")
    check_patterns(patterns)
    return patterns


def check_patterns(patterns: Sequence[str]) -> None:
    """Refuse a list past the bounds, or with a pattern that is not a usable regular expression.

    :raises ValueError: one line naming the first bad pattern and why.
    """
    if len(patterns) > MAX_PATTERNS:
        raise ValueError(f"at most {MAX_PATTERNS} comma-separated patterns, not {len(patterns)}")
    for pattern in patterns:
        _compile(pattern)


def _compile(pattern: str) -> re.Pattern[str]:
    if not pattern.strip():
        raise ValueError("an empty pattern would match every User-Agent")
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise ValueError(f"pattern {pattern[:40]!r}... is longer than {MAX_PATTERN_LENGTH} characters")
    if _SPLIT_REPEAT.search(pattern):
        raise ValueError(f"pattern {pattern!r}: a comma separates patterns, so a pattern cannot hold a {{m,n}} repeat")
    try:
        compiled = re.compile(pattern, re.IGNORECASE)
    except re.error as error:
        raise ValueError(f"pattern {pattern!r} is not a valid regular expression: {error}") from None
    if compiled.search(""):
        raise ValueError(f"pattern {pattern!r} matches an empty User-Agent, so it would flag every request")
    return compiled


class CustomPatterns:
    """The team's patterns, compiled once; `match` names the first that matches."""

    def __init__(self, patterns: Sequence[str] = ()) -> None:
        check_patterns(patterns)
        self._compiled = [_compile(pattern) for pattern in patterns]

    def match(self, user_agent: str) -> Bot | None:
        """A `custom` bot named by the text the first matching pattern found, or None."""
        for compiled in self._compiled:
            found = compiled.search(user_agent)
            if found:
                name = found.group(0).strip() or compiled.pattern
                return Bot(name[:MAX_NAME_LENGTH], CUSTOM)
        return None
