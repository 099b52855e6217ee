"""collector/ingest/plancheck.py: events checked against a plan, refused or flagged, the request's own left as sent."""

from __future__ import annotations

import json

import pytest

from collector.errors import CollectorError
from collector.ingest.plancheck import checked_events, flagged
from collector.plan import plan_from_text

PLAN = plan_from_text(
    json.dumps(
        {
            "eventTypes": {"buy": {"properties": {"type": "object", "properties": {"n": {"type": "integer"}}}}},
            "otherEventTypes": "refuse",
        }
    )
)
GOOD = {"eventType": "buy", "properties": {"n": 1}}
BAD = {"eventType": "buy", "properties": {"n": "1"}}


def test_events_that_pass_go_on_as_they_are():
    events = [GOOD, GOOD]
    assert checked_events(PLAN, "refuse", events) == events
    assert all(out is sent for out, sent in zip(checked_events(PLAN, "flag", events), events, strict=True))


def test_refuse_names_every_breaking_event_by_index_and_the_first_in_the_message():
    with pytest.raises(CollectorError) as caught:
        checked_events(PLAN, "refuse", [GOOD, BAD, {"eventType": "sell"}], name=lambda index: f"batch[{index}]")
    assert caught.value.code == "tracking_plan_violation"
    assert caught.value.message == "batch[1] breaks the tracking plan: /properties/n: expected integer, got string"
    assert caught.value.details == {
        "messageBody": {
            "1": {"/properties/n": ["expected integer, got string"]},
            "2": {"/eventType": ["not an event type of the tracking plan"]},
        }
    }


def test_flag_copies_a_breaking_event_with_its_violations_and_counts_it():
    events = [GOOD, BAD]
    out = checked_events(PLAN, "flag", events)
    assert out[1] == {**BAD, "planViolations": [{"path": "/properties/n", "message": "expected integer, got string"}]}
    assert "planViolations" not in BAD
    assert (flagged(out), flagged(events)) == (1, 0)
