"""An access request: every stored event of one person, then their dead letters."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..store import reading
from . import letters
from .matching import Matcher


def events(
    data_dir: Path, matcher: Matcher, on_problem: Callable[[reading.Problem], None] = lambda problem: None
) -> Iterator[bytes]:
    """The stored lines of the person's events (open, finished and compressed files), oldest first."""
    for line, event in reading.events_in_time_order(data_dir, on_problem):
        if matcher.maybe_theirs(line) and matcher.fields_of(event):
            yield line


def dead_letters(data_dir: Path, matcher: Matcher) -> Iterator[dict[str, Any]]:
    """The person's dead letters, oldest first."""
    return letters.theirs(data_dir, matcher)
