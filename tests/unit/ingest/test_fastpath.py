"""The fast path and marshmallow accept exactly the same requests (property test)."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import Schema, ValidationError, fields

from collector.ingest.fastpath import compile_schema
from collector.ingest.schemas import build_request_schema

SCHEMAS = {
    "open": build_request_schema(max_events=5, event_types=frozenset()),
    "allow-list": build_request_schema(max_events=5, event_types=frozenset({"click", "page_view"})),
}
FAST = {name: compile_schema(schema) for name, schema in SCHEMAS.items()}

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=4)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)
edge_strings = st.sampled_from(
    ["", " ", "\t", "click", "page_view", "a" * 128, "a" * 129, "é" * 128, "x" * 256, "x" * 257,
     "bad\x00", "del\x7f", "c1\x85", "nel\u0085", "sep\u2028", "zero\u200b"]
)
strings = edge_strings | st.text(max_size=8) | json_values
timestamps = st.sampled_from(
    ["2026-11-26T04:56:52Z", "2026-11-26T04:56:52.123+05:30", "2026-11-26 04:56:52-08:00",
     "2026-11-26t04:56:52z", "2026-11-26T04:56:52", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
     "2026-11-26T04:56:52.1234567890Z", "2026-11-26T24:00:00Z", "2026-11-26T04:56:52+25:00"]
) | st.text(max_size=25) | json_values
objects = st.dictionaries(st.text(max_size=4), json_values, max_size=3) | json_values
FIELDS = ["eventType", "eventId", "timestamp", "userId", "anonymousId", "sessionId", "properties", "context"]
valid_types = st.sampled_from(["click", "page_view", "click", "page_view", "a" * 128, "é" * 128, "sep\u2028"]) | st.text(
    st.characters(categories=["L", "N"]), min_size=1, max_size=8
)
short_text = st.text(st.characters(categories=["L", "N", "P", "Zs"]), min_size=1, max_size=8)
valid_events = st.fixed_dictionaries(
    {"eventType": valid_types},
    optional={
        "eventId": short_text,
        "timestamp": st.sampled_from(["2026-11-26T04:56:52Z", "2026-11-26T04:56:52.123+05:30"]),
        "userId": short_text,
        "anonymousId": st.just(""),
        "sessionId": st.just("x" * 256),
        "properties": st.dictionaries(st.text(max_size=4), json_values, max_size=3),
        "context": st.dictionaries(st.text(max_size=4), json_values, max_size=3),
    },
)
valid_payloads = st.fixed_dictionaries(
    {"messageBody": st.lists(valid_events, min_size=1, max_size=5)},
    optional={"messageheader": st.dictionaries(st.text(max_size=4), scalars, max_size=4)},
)
bad_values = strings | timestamps | objects
headers = (
    st.dictionaries(st.text(max_size=4), json_values, max_size=4)
    | st.integers(60, 70).map(lambda n: {f"k{i}": i for i in range(n)})
    | json_values
)


@st.composite
def payloads(draw):
    """A valid request, then with about even odds one change that may break it."""
    payload = draw(valid_payloads)
    mutation = draw(st.sampled_from(["none", "event-field", "drop-type", "body", "header", "top", "many", "whole"]))
    events = payload["messageBody"]
    if mutation == "event-field":
        event = draw(st.sampled_from(events))
        event[draw(st.sampled_from(FIELDS + ["surprise"]))] = draw(bad_values)
    elif mutation == "drop-type":
        draw(st.sampled_from(events)).pop("eventType")
    elif mutation == "body":
        payload["messageBody"] = draw(json_values | st.lists(json_values, max_size=3))
    elif mutation == "header":
        payload["messageheader"] = draw(headers)
    elif mutation == "top":
        payload[draw(st.sampled_from(["extra", "messageHeader", "messagebody"]))] = draw(json_values)
    elif mutation == "many":
        payload["messageBody"] = events * 3
    elif mutation == "whole":
        return draw(json_values)
    return payload


def marshmallow_accepts(schema, payload) -> bool:
    try:
        schema.load(payload)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize("name", SCHEMAS)
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload=payloads())
def test_fast_path_accepts_exactly_what_marshmallow_accepts(name, payload):
    schema = SCHEMAS[name]
    accepted = marshmallow_accepts(schema, payload)
    assert FAST[name](payload) is accepted
    if accepted:
        assert schema.load(payload) == payload, "a valid payload is stored as parsed"


@pytest.mark.parametrize("name", SCHEMAS)
@settings(max_examples=100, deadline=None)
@given(types=st.lists(st.sampled_from(["click", "page_view"]), min_size=1, max_size=5))
def test_generated_valid_requests_take_the_fast_path(name, types):
    payload = {
        "messageBody": [
            {"eventType": t, "timestamp": "2026-11-26T04:56:52.123Z", "properties": {"n": [1, {"a": None}]}}
            for t in types
        ],
        "messageheader": {"app": "web", "build": 7},
    }
    assert FAST[name](payload) is True
    assert marshmallow_accepts(SCHEMAS[name], payload)


def test_a_field_type_the_fast_path_does_not_know_fails_at_start_up():
    class WithDate(Schema):
        when = fields.DateTime()

    with pytest.raises(TypeError, match="DateTime fields are not supported"):
        compile_schema(WithDate())


def test_a_defaulted_field_fails_at_start_up():
    class Defaulted(Schema):
        kind = fields.String(load_default="x")

    with pytest.raises(TypeError, match="renamed or defaulted"):
        compile_schema(Defaulted())
