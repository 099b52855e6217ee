"""How an answer names one event of a request: as the route's validation errors name it.

POST /collect/event names `messageBody[i]`; a Segment batch `batch[i]`; a single
Segment call's only message has no name (its fields are named alone, and a
sentence about it says "the message"). A namer gives None for that one.
"""

from __future__ import annotations

from collections.abc import Callable

EventName = Callable[[int], str | None]


def collect_name(index: int) -> str:
    """An event of POST /collect/event."""
    return f"messageBody[{index}]"


def segment_name(call: str | None) -> EventName:
    """How a Segment request's messages are named: `batch[i]` in /v1/batch (`call` None), else none."""
    return _batch_name if call is None else _only_message


def _batch_name(index: int) -> str:
    return f"batch[{index}]"


def _only_message(_index: int) -> None:
    return None
