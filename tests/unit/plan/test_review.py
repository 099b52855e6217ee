"""What a plan would do to stored events: counts per type and pointer, an example each, requests by pingId."""

from __future__ import annotations

import json

from collector.plan import plan_from_text
from collector.plan.review import Finding, review

PLAN = plan_from_text(
    json.dumps(
        {
            "eventTypes": {
                "buy": {
                    "properties": {
                        "properties": {"n": {"type": "integer"}, "m": {"type": "integer"}},
                        "required": ["n"],
                    }
                }
            },
            "otherEventTypes": "refuse",
        }
    )
)


def test_counts_per_type_and_pointer_with_the_first_example_and_requests():
    events = [
        {"eventType": "buy", "properties": {"n": 1}, "eventId": "e1", "pingId": "r1"},
        {"eventType": "buy", "properties": {"n": "x"}, "eventId": "e2", "pingId": "r1"},
        {"eventType": "buy", "properties": {"n": "y", "m": "z"}, "eventId": "e3", "pingId": "r2"},
        {"eventType": "buy", "eventId": "e4", "pingId": "r3"},
        {"eventType": "sell", "eventId": "e5", "pingId": "r3"},
    ]
    found = review(PLAN, events)
    assert (found.events, found.breaking, found.requests) == (5, 4, {"r1", "r2", "r3"})
    assert found.in_order() == [
        Finding("buy", "/properties/m", 1, "expected integer, got string", "e3"),
        Finding("buy", "/properties/n", 3, "expected integer, got string", "e2"),
        Finding("sell", "/eventType", 1, "not an event type of the tracking plan", "e5"),
    ]


def test_an_event_breaking_the_plan_twice_at_one_pointer_counts_once_there():
    plan = plan_from_text(
        json.dumps(
            {
                "eventTypes": {
                    "t": {"properties": {"properties": {"s": {"type": "string", "minLength": 3, "pattern": "^a"}}}}
                },
                "otherEventTypes": "allow",
            }
        )
    )
    found = review(plan, [{"eventType": "t", "properties": {"s": "b"}, "eventId": "e", "pingId": "r"}])
    assert [(f.path, f.events) for f in found.in_order()] == [("/properties/s", 1)]
