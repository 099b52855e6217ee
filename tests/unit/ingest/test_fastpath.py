"""The fast path and marshmallow accept exactly the same requests (property test),
and a schema feature the fast path cannot mirror stops start-up."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import (
    EXCLUDE,
    INCLUDE,
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_load,
    validates,
    validates_schema,
)

from collector import jsontext
from collector.ingest.fastpath import compile_schema
from collector.ingest.schemas import build_request_schema

SCHEMAS = {
    "open": build_request_schema(max_events=5, event_types=frozenset()),
    "allow-list": build_request_schema(max_events=5, event_types=frozenset({"click", "page_view"})),
}
FAST = {name: compile_schema(schema) for name, schema in SCHEMAS.items()}

# Numbers at and past every limit of the parsers and writers (see collector/jsontext.py).
edge_numbers = st.sampled_from(
    [0, -0.0, 2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1, 10**99, -(10**99),
     1.7976931348623157e308, 5e-324]
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | edge_numbers
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=4)
)
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
     "2026-11-26T04:56:52.1234567890Z", "2026-11-26T24:00:00Z", "2026-11-26T04:56:52+25:00",
     "2016-12-31T23:59:60Z", "2016-12-31T15:59:60.5-08:00", "2016-12-30T23:59:60Z", "2016-12-31T23:59:61Z",
     "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:60Z"]
) | st.text(max_size=25) | json_values
objects = st.dictionaries(st.text(max_size=4), json_values, max_size=3) | json_values
FIELDS = ["eventType", "eventId", "timestamp", "userId", "anonymousId", "sessionId", "properties", "context"]
valid_types = st.sampled_from(
    ["click", "page_view", "click", "page_view", "a" * 128, "é" * 128, "sep\u2028"]
) | st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=8)
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
        event[draw(st.sampled_from([*FIELDS, "surprise"]))] = draw(bad_values)
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
        # Equal values are not enough (1 == 1.0 == True): every value keeps its type.
        assert typed(schema.load(payload)) == typed(payload)
        # RequestValidator stores the payload as sent whichever path accepted it.
        assert jsontext.dumps_line(payload).endswith(b"\n")


def typed(value):
    """`value` with each scalar paired with its type, so that 1, 1.0 and True differ."""
    if isinstance(value, dict):
        return {key: typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [typed(item) for item in value]
    return (type(value).__name__, value)


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


def test_todays_request_schema_compiles_from_its_fields_and_meta():
    check = compile_schema(build_request_schema(max_events=500, event_types=frozenset({"click"})))
    assert check({"messageBody": [{"eventType": "click"}]}) is True
    assert check({"messageBody": [{"eventType": "view"}]}) is False


def test_a_schema_inheriting_only_fields_compiles_and_requires_them_all():
    class Base(Schema):
        a = fields.String(required=True)

    class Child(Base):
        b = fields.String(required=True)

    check = compile_schema(Child())
    assert check({"a": "x", "b": "y"}) is True
    assert check({"b": "y"}) is False


class Hooked(Schema):
    kind = fields.String()


def with_method(name, method):
    """A schema class like Hooked with one method added, as a class statement would."""
    return type(f"{name.title()}Schema", (Hooked,), {name: method})


@pytest.mark.parametrize(
    "name, method",
    [
        ("trim", pre_load(lambda self, data, **kwargs: data)),
        ("wrap", post_load(lambda self, data, **kwargs: data)),
        ("check_kind", validates("kind")(lambda self, value, **kwargs: None)),
        ("check_all", validates_schema(lambda self, data, **kwargs: None)),
        ("load", lambda self, data, **kwargs: data),
        ("handle_error", lambda self, error, data, **kwargs: None),
        ("on_bind_field", lambda self, field_name, field_obj: None),
        ("__init__", lambda self, *args, **kwargs: Schema.__init__(self, *args, **kwargs)),
    ],
)
def test_a_method_or_hook_on_the_schema_is_refused_at_start_up_naming_it(name, method):
    schema_class = with_method(name, method)
    with pytest.raises(TypeError) as caught:
        compile_schema(schema_class())
    assert str(caught.value).startswith(f"{schema_class.__name__}: {schema_class.__name__}.{name} cannot be mirrored")


def test_a_hook_inherited_from_a_base_schema_or_a_mixin_is_refused():
    class Base(Schema):
        @pre_load
        def trim(self, data, **kwargs):
            return data

    class Mixin:
        def handle_error(self, error, data, **kwargs):
            pass

    class FromBase(Base):
        kind = fields.String()

    class FromMixin(Mixin, Schema):
        kind = fields.String()

    with pytest.raises(TypeError, match=r"^FromBase: Base\.trim cannot be mirrored"):
        compile_schema(FromBase())
    with pytest.raises(TypeError, match=r"^FromMixin: Mixin\.handle_error cannot be mirrored"):
        compile_schema(FromMixin())


def test_a_hook_on_a_nested_schema_is_refused():
    class Inner(Schema):
        @post_load
        def wrap(self, data, **kwargs):
            return data

    class Outer(Schema):
        items = fields.List(fields.Nested(Inner))

    with pytest.raises(TypeError, match=r"^Inner: Inner\.wrap cannot be mirrored"):
        compile_schema(Outer())


@pytest.mark.parametrize(
    "options, message",
    [
        ({"unknown": EXCLUDE}, "Hooked.unknown='exclude': only unknown=RAISE"),
        ({"unknown": INCLUDE}, "Hooked.unknown='include': only unknown=RAISE"),
        ({"many": True}, "Hooked: many=True, partial=None"),
        ({"partial": True}, "Hooked: many=False, partial=True"),
        ({"partial": ("kind",)}, "Hooked: many=False, partial=('kind',)"),
    ],
)
def test_schema_options_that_change_loading_are_refused(options, message):
    with pytest.raises(TypeError) as caught:
        compile_schema(Hooked(**options))
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize(
    "field, message",
    [
        (fields.String(data_key="Kind"), "Renamed.kind: renamed fields (data_key, attribute)"),
        (fields.String(attribute="type"), "Renamed.kind: renamed fields (data_key, attribute)"),
        (fields.String(load_default="x"), "Renamed.kind: defaulted fields (load_default)"),
        (fields.DateTime(), "Renamed.kind: DateTime fields are not supported"),
        (fields.UUID(), "Renamed.kind: UUID fields are not supported"),
        (fields.Email(), "Renamed.kind: Email fields are not supported"),
        (fields.List(fields.Integer()), "Renamed.kind[]: Integer fields are not supported"),
        (fields.Dict(values=fields.Float()), "Renamed.kind value: Float fields are not supported"),
        (fields.Nested(Hooked, many=True), "Renamed.kind: Nested(many=True) is not supported"),
        (fields.Nested(Hooked, unknown=EXCLUDE), "Renamed.kind: Nested(unknown='exclude') is not supported"),
    ],
)
def test_a_field_the_fast_path_cannot_mirror_is_refused_at_start_up_naming_it(field, message):
    renamed = Schema.from_dict({"kind": field}, name="Renamed")
    with pytest.raises(TypeError) as caught:
        compile_schema(renamed())
    assert str(caught.value).startswith(message)


def test_a_dump_only_field_is_unknown_on_load_for_both_paths():
    schema = Schema.from_dict({"kind": fields.String(), "id": fields.String(dump_only=True)})()
    assert compile_schema(schema)({"kind": "a", "id": "b"}) is False
    assert not marshmallow_accepts(schema, {"kind": "a", "id": "b"})
    assert compile_schema(schema)({"kind": "a"}) is True
