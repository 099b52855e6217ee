"""Loading a plan file: a good plan compiles;
every kind of bad plan is one line with the file and the pointer of its fault.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from collector.plan import PlanError, TrackingPlan, load_plan, plan_from_text

DATA = Path(__file__).parent / "data"


def plan_text(event_types, other="allow", **extra):
    return json.dumps({"eventTypes": event_types, "otherEventTypes": other, **extra})


def fault(text):
    with pytest.raises(PlanError) as raised:
        plan_from_text(text, "plan.json")
    return str(raised.value)


def test_a_plan_of_six_types_loads_in_the_files_order():
    plan = load_plan(DATA / "shop.json")
    assert isinstance(plan, TrackingPlan)
    assert plan.event_types == ("page_view", "product_viewed", "add_to_cart", "purchase", "signup", "app_opened")
    assert plan.other_event_types == "refuse"
    assert plan.source == str(DATA / "shop.json")
    assert plan.description("purchase") == "An order paid."
    assert plan.description("app_opened") == ""


def test_schemas_for_openapi_are_each_types_properties_schema_and_copies():
    plan = load_plan(DATA / "shop.json")
    schemas = plan.schemas_for_openapi()
    written = {
        name: entry["properties"] for name, entry in json.loads((DATA / "shop.json").read_text())["eventTypes"].items()
    }
    assert list(schemas) == list(written)
    assert {name: schema for name, schema in schemas.items() if name != "purchase"} == {
        name: schema for name, schema in written.items() if name != "purchase"
    }
    schemas["page_view"]["required"].append("x")
    assert "x" not in plan.schemas_for_openapi()["page_view"]["required"]


def test_schemas_for_openapi_inline_references_that_would_point_at_the_documents_root():
    purchase = load_plan(DATA / "shop.json").schemas_for_openapi()["purchase"]
    assert purchase["properties"]["total"] == {"type": "number", "exclusiveMinimum": 0}
    assert "$ref" not in json.dumps(purchase)


def test_schemas_for_openapi_give_circular_references_an_id_to_resolve_against():
    node = {
        "$defs": {"node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/node"}}}},
        "$ref": "#/$defs/node",
    }
    schema = plan_from_text(plan_text({"linked list": {"properties": node}})).schemas_for_openapi()["linked list"]
    assert schema["$id"] == "urn:collector:tracking-plan:linked%20list"


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            '{"eventTypes": {',
            "tracking plan plan.json:1:17: not JSON: Expecting property name enclosed in double quotes",
        ),
        (
            '{\n  "eventTypes": {}\n  "otherEventTypes": "allow"}',
            "tracking plan plan.json:3:3: not JSON: Expecting ',' delimiter",
        ),
        (
            '{"eventTypes": {"a": {"properties": NaN}}, "otherEventTypes": "allow"}',
            "tracking plan plan.json at the top level: not JSON: NaN is not JSON",
        ),
        ("[]", "tracking plan plan.json at the top level: a plan is a JSON object with eventTypes and otherEventTypes"),
    ],
)
def test_text_that_is_not_a_json_plan_says_where(text, expected):
    assert fault(text) == expected


def test_a_type_named_twice_is_refused_at_its_pointer():
    text = (
        '{"eventTypes": {"a": {"properties": {}}, "b": {"properties": {}}, "a": {"properties": true}}, '
        '"otherEventTypes": "allow"}'
    )
    assert fault(text) == (
        "tracking plan plan.json at /eventTypes/a: "
        "'a' is named twice in one object (a JSON parser would keep only the last)"
    )


def test_a_key_repeated_inside_a_schema_is_refused_too():
    text = '{"eventTypes": {"a/b": {"properties": {"type": "object", "type": "string"}}}, "otherEventTypes": "allow"}'
    assert fault(text).startswith("tracking plan plan.json at /eventTypes/a~1b/properties/type: 'type' is named twice")


@pytest.mark.parametrize(
    "document, expected",
    [
        ({"eventTypes": {"a": {"properties": {}}}}, "at the top level: otherEventTypes is missing"),
        ({"otherEventTypes": "allow"}, "at the top level: eventTypes is missing"),
        (
            {"eventTypes": {"a": {"properties": {}}}, "otherEventTypes": "allow", "version": 2},
            "at /version: unknown key 'version' (expected eventTypes, otherEventTypes)",
        ),
        (
            {"eventTypes": {"a": {"properties": {}}}, "otherEventTypes": "flag"},
            "at /otherEventTypes: otherEventTypes is 'allow' or 'refuse'",
        ),
        (
            {"eventTypes": {}, "otherEventTypes": "allow"},
            "at /eventTypes: eventTypes is an object naming at least one event type",
        ),
        (
            {"eventTypes": ["a"], "otherEventTypes": "allow"},
            "at /eventTypes: eventTypes is an object naming at least one event type",
        ),
        ({"eventTypes": {"a": {}}, "otherEventTypes": "allow"}, "at /eventTypes/a: properties is missing"),
        (
            {"eventTypes": {"a": "x"}, "otherEventTypes": "allow"},
            "at /eventTypes/a: an event type is an object with properties",
        ),
        (
            {"eventTypes": {"a": {"propertys": {}}}, "otherEventTypes": "allow"},
            "at /eventTypes/a/propertys: unknown key 'propertys' (expected description, properties, context)",
        ),
        (
            {"eventTypes": {"a": {"properties": {}, "description": 1}}, "otherEventTypes": "allow"},
            "at /eventTypes/a/description: description is a string",
        ),
        (
            {"eventTypes": {" ": {"properties": {}}}, "otherEventTypes": "allow"},
            "at /eventTypes/ : not an eventType the collector accepts",
        ),
        (
            {"eventTypes": {"a": {"properties": []}}, "otherEventTypes": "allow"},
            "at /eventTypes/a/properties: a JSON Schema is an object or a boolean",
        ),
    ],
)
def test_a_plan_not_in_the_format_names_the_pointer(document, expected):
    assert fault(json.dumps(document)).startswith("tracking plan plan.json " + expected)


@pytest.mark.parametrize(
    "schema, at, reason",
    [
        (
            {"type": "numbr"},
            "/type",
            "type is one of null, boolean, object, array, number, string, integer, or a list of them",
        ),
        (
            {"type": ["string", "numbr"]},
            "/type",
            "type is one of null, boolean, object, array, number, string, integer, or a list of them",
        ),
        ({"required": [1]}, "/required/0", 'is not of type "string"'),
        ({"properties": {"a": 5}}, "/properties/a", 'is not of types "boolean", "object"'),
        ({"properties": {"price": {"minimum": "0"}}}, "/properties/price/minimum", 'is not of type "number"'),
        ({"properties": {"sku": {"pattern": "(["}}}, "/properties/sku/pattern", 'is not a "regex"'),
        ({"required": "sku"}, "/required", 'is not of type "array"'),
        ({"properties": {"e": {"format": "emial"}}}, "/properties/e/format", "Unknown format: 'emial'"),
        (
            {"properties": {"a": {}, "b": {"$ref": "#/$defs/nope"}}},
            "/properties/b/$ref",
            "'/$defs/nope' does not exist",
        ),
        (
            {"properties": {"b": {"$ref": "https://schemas.example/b.json"}}},
            "/properties/b/$ref",
            "Retrieval is disabled",
        ),
        ({"$schema": "http://json-schema.org/draft-07/schema#"}, "/$schema", "schemas are JSON Schema draft 2020-12"),
    ],
)
def test_a_schema_that_is_not_draft_2020_12_names_the_bad_keyword(schema, at, reason):
    message = fault(plan_text({"purchase": {"properties": {"type": "object"}, "context": schema}}))
    assert message.startswith(f"tracking plan plan.json at /eventTypes/purchase/context{at}: ")
    assert reason in message
    assert "Adjust configuration" not in message


def test_a_long_library_reason_is_cut_short():
    message = fault(plan_text({"a": {"properties": {"minimum": "x" * 1000}}}))
    assert len(message) < 300
    assert message.endswith("...")


def test_the_draft_2020_12_schema_uri_may_be_declared():
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object"}
    assert plan_from_text(plan_text({"a": {"properties": schema}})).event_types == ("a",)


def test_a_file_that_cannot_be_read_is_one_line(tmp_path):
    with pytest.raises(PlanError) as raised:
        load_plan(tmp_path / "missing.json")
    assert str(raised.value).startswith(f"tracking plan {tmp_path / 'missing.json'} at the top level: cannot be read: ")
    (tmp_path / "latin1.json").write_bytes(b'{"eventTypes": "\xe9"}')
    with pytest.raises(PlanError, match="cannot be read: 'utf-8' codec"):
        load_plan(tmp_path / "latin1.json")


def test_every_error_is_one_line_with_its_parts_apart(tmp_path):
    path = tmp_path / "plan.json"
    path.write_text(plan_text({"a": {"properties": {"type": "numbr"}}}))
    with pytest.raises(PlanError) as raised:
        load_plan(path)
    error = raised.value
    assert "\n" not in str(error)
    assert (error.source, error.at, error.line) == (str(path), "/eventTypes/a/properties/type", 0)
    assert error.reason.startswith("not a valid JSON Schema")


@pytest.mark.parametrize("depth", [300, 600, 900, 5000])
def test_a_plan_nested_too_deeply_is_one_line_not_a_traceback(depth):
    nested = "[" * depth + "]" * depth
    text = '{"eventTypes": {"a": {"properties": {"enum": [%s]}}}, "otherEventTypes": "allow"}' % nested  # noqa: UP031 - a JSON text: with %, its braces need no doubling
    with pytest.raises(PlanError) as raised:
        plan_from_text(text, "plan.json")
    assert "\n" not in str(raised.value)
    assert "nested too deeply" in str(raised.value) or "Recursion limit reached" in str(raised.value)
