"""Drafting a plan from events: types, formats, required by share, enums within their bounds,
a draft that its events pass.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collector.plan import plan_from_text
from collector.plan.inference import ENUM_MAX_VALUES, ENUM_MIN_EVENTS, MAX_PROPERTIES, Inference, infer


def events(event_type, values, name="x"):
    return [{"eventType": event_type, "properties": {name: value}} for value in values]


def drafted(found, event_type="t", name="x"):
    return found["eventTypes"][event_type]["properties"]["properties"][name]


@pytest.mark.parametrize(
    "values, schema",
    [
        ([1, 2], {"type": "integer"}),
        ([1, 2.5], {"type": "number"}),
        ([True, False], {"type": "boolean"}),
        ([1, True], {"type": ["boolean", "integer"]}),
        (["a", None], {"type": ["null", "string"]}),
        ([{"a": 1}], {"type": "object"}),
        ([[1]], {"type": "array"}),
        (["2026-12-06T06:30:00Z", "2026-12-06T06:30:00.5+01:00"], {"type": "string", "format": "date-time"}),
        (["0b0d1f8e-7d0a-4a57-9d4e-2f6c0f9b8a11"], {"type": "string", "format": "uuid"}),
        (["ada@example.com", None], {"type": ["null", "string"], "format": "email"}),
        (["https://example.com/a", "mailto:ada@example.com"], {"type": "string", "format": "uri"}),
        (["https://example.com/a", "not a uri"], {"type": "string"}),
    ],
)
def test_json_types_and_formats(values, schema):
    assert drafted(infer(events("t", values))) == schema


def test_an_enum_needs_few_values_seen_often_enough():
    few_often = [f"v{n % ENUM_MAX_VALUES}" for n in range(ENUM_MIN_EVENTS)]
    assert drafted(infer(events("t", few_often)))["enum"] == sorted(set(few_often))
    assert "enum" not in drafted(infer(events("t", few_often[: ENUM_MIN_EVENTS - 1])))
    many = [f"v{n % (ENUM_MAX_VALUES + 1)}" for n in range(100)]
    assert "enum" not in drafted(infer(events("t", many)))
    formatted = ["https://example.com/"] * 100
    assert drafted(infer(events("t", formatted))) == {"type": "string", "format": "uri"}


def test_required_by_share_of_the_types_events():
    found = [*events("t", [1] * 19), {"eventType": "t"}]  # 19 of 20: 0.95
    assert infer(found, 0.95)["eventTypes"]["t"]["properties"]["required"] == ["x"]
    assert "required" not in infer(found, 0.96)["eventTypes"]["t"]["properties"]


def test_a_type_with_too_many_property_names_allows_the_others():
    many = [{"eventType": "t", "properties": {f"k{n}": n}} for n in range(MAX_PROPERTIES + 5)]
    schema = infer(many)["eventTypes"]["t"]
    assert len(schema["properties"]["properties"]) == MAX_PROPERTIES
    assert "additionalProperties" not in schema["properties"]
    assert plan_from_text(json.dumps(infer(many))).check(many[-1]) == []


def test_min_share_is_a_share():
    with pytest.raises(ValueError):
        Inference(0)


values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    st.sampled_from(
        ["https://example.com/x", "ada@example.com", "2026-12-06T06:30:00Z", "0b0d1f8e-7d0a-4a57-9d4e-2f6c0f9b8a11"]
    ),
)
stored = st.lists(
    st.fixed_dictionaries(
        {"eventType": st.sampled_from(["a", "b", "c"])},
        optional={"properties": st.dictionaries(st.sampled_from(["p", "q", "r", "s"]), values, max_size=4)},
    ),
    min_size=1,
    max_size=60,
)


@given(stored)
def test_a_draft_at_min_share_1_passes_the_events_it_was_drafted_from(found):
    plan = plan_from_text(json.dumps(infer(found, 1.0)))
    assert [plan.check(event) for event in found] == [[] for _ in found]


@given(stored, st.sampled_from([0.5, 0.95]))
def test_below_1_the_draft_flags_only_the_few_events_without_a_common_property(found, min_share):
    plan = plan_from_text(json.dumps(infer(found, min_share)))
    messages = {violation.message for event in found for violation in plan.check(event)}
    assert messages <= {"required property missing"}
