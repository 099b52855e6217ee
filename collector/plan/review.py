"""What a plan would do to stored events (`collector plan check`): per type and pointer, how many events, one example.

Counts are of events (an event breaking the plan twice at one pointer counts
once there), and of requests: in refuse mode a request is refused as a whole
(a 201 is all or nothing), so the requests that held a breaking event are
what refuse mode would have turned away. A request is known by its `pingId`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from .compiled import TrackingPlan


@dataclasses.dataclass
class Finding:
    """Events of one type breaking the plan at one pointer: how many, and the first one's message and eventId."""

    event_type: str
    path: str
    events: int
    message: str
    event_id: str


@dataclasses.dataclass
class Review:
    events: int = 0
    breaking: int = 0
    findings: dict[tuple[str, str], Finding] = dataclasses.field(default_factory=dict)
    requests: set[str] = dataclasses.field(default_factory=set)

    def add(self, event: Mapping[str, Any], plan: TrackingPlan) -> None:
        self.events += 1
        violations = plan.check(event)
        if not violations:
            return
        self.breaking += 1
        self.requests.add(str(event.get("pingId")))
        event_type = str(event.get("eventType"))
        first_at: dict[str, str] = {}
        for violation in violations:
            first_at.setdefault(violation.path, violation.message)
        for path, message in first_at.items():
            finding = self.findings.get((event_type, path))
            if finding is None:
                self.findings[(event_type, path)] = Finding(event_type, path, 1, message, str(event.get("eventId")))
            else:
                finding.events += 1

    def in_order(self) -> list[Finding]:
        """The findings by type, then pointer."""
        return [self.findings[key] for key in sorted(self.findings)]


def review(plan: TrackingPlan, events: Iterable[Mapping[str, Any]]) -> Review:
    """What `plan` says of each of `events`, summed up."""
    found = Review()
    for event in events:
        found.add(event, plan)
    return found
