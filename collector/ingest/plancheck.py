"""The tracking plan on the data path: each validated event checked against it, before enrichment.

COLLECTOR_TRACKING_PLAN_MODE says what an event breaking the plan gets:
- `refuse`: its request gets 400 `tracking_plan_violation` (a 201 stays all
  or nothing), `details` naming each event by its index and each fault by its
  JSON pointer within the event, as the validation errors name fields:
  `{"messageBody": {"1": {"/properties/price": ["expected number, got string"]}}}`;
- `flag`: the event goes on to be stored with `planViolations`, a list of
  `{"path", "message"}`; the views count it once it is stored.
The events of the request are never changed in place: they belong to the
parsed body, whose fingerprint an Idempotency-Key compares. A flagged event
is a copy with the key added (no client can send that key: the schema
refuses unknown keys, and the Segment mapping reserves it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import TRACKING_PLAN_VIOLATION, CollectorError
from ..plan import by_path
from .naming import EventName, collect_name

if TYPE_CHECKING:
    from ..plan import TrackingPlan

KEY = "planViolations"
REFUSE = "refuse"


def checked_events(
    plan: TrackingPlan,
    mode: str,
    events: Sequence[Mapping[str, Any]],
    name: EventName = collect_name,
) -> list[Mapping[str, Any]]:
    """`events` as they go on to be stored: in flag mode those breaking the plan with `planViolations`.

    `name(index)` names an event in refuse mode's message (None: a single Segment call's, "the message").
    :raises CollectorError: refuse mode, `tracking_plan_violation` naming every event that breaks the plan.
    """
    found = {index: violations for index, event in enumerate(events) if (violations := plan.check(event))}
    if not found:
        return list(events)
    if mode == REFUSE:
        first, violations = next(iter(found.items()))
        raise CollectorError(
            TRACKING_PLAN_VIOLATION,
            f"{name(first) or 'the message'} breaks the tracking plan: {violations[0].path}: {violations[0].message}",
            details={"messageBody": {str(index): by_path(violations) for index, violations in found.items()}},
        )
    return [
        {**event, KEY: [violation.as_dict() for violation in found[index]]} if index in found else event
        for index, event in enumerate(events)
    ]


def flagged(events: Sequence[Mapping[str, Any]]) -> int:
    """How many of `events` are flagged as breaking the plan."""
    return sum(KEY in event for event in events)
