"""collector/openapi/plan.py: the tracking plan in the OpenAPI document, each type's schemas selected by eventType."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from collector.openapi import document
from collector.openapi.plan import openapi30
from collector.plan import load_plan
from collector.settings import load_settings

SHOP = Path(__file__).parents[1] / "plan" / "data" / "shop.json"


def with_plan(plan_path, mode="refuse"):
    return document(load_settings(environ={}, overrides={"tracking_plan": str(plan_path), "tracking_plan_mode": mode}))


def test_without_a_plan_an_event_is_the_envelope_only():
    schemas = document(load_settings(environ={}))["components"]["schemas"]
    assert schemas["EventBatch"]["properties"]["messageBody"]["items"] == {"$ref": "#/components/schemas/Event"}
    assert not [name for name in schemas if name.startswith("PlanEvent")]


def test_each_type_of_the_plan_is_a_branch_selected_by_event_type():
    schemas = with_plan(SHOP)["components"]["schemas"]
    items = schemas["EventBatch"]["properties"]["messageBody"]["items"]
    plan = load_plan(SHOP)
    assert items["discriminator"]["propertyName"] == "eventType"
    assert list(items["discriminator"]["mapping"]) == list(plan.event_types)
    assert [branch["$ref"] for branch in items["oneOf"]] == list(items["discriminator"]["mapping"].values())
    purchase = schemas[items["discriminator"]["mapping"]["purchase"].rsplit("/", 1)[1]]
    envelope, own = purchase["allOf"]
    assert envelope == {"$ref": "#/components/schemas/Event"}
    assert own["properties"]["eventType"] == {"type": "string", "enum": ["purchase"]}
    # The plan's $ref is inlined (it would be read against the document's root), in OpenAPI 3.0's words.
    total = {"type": "number", "minimum": 0, "exclusiveMinimum": True}
    assert own["properties"]["properties"]["properties"]["total"] == total
    assert "$defs" not in own["properties"]["properties"]
    assert own["properties"]["context"]["required"] == ["locale"]
    # An event without properties (or context) is checked as {}: required where {} breaks the plan.
    assert own["required"] == ["eventType", "properties", "context"]
    assert own["description"] == "An order paid."


def test_a_schema_that_accepts_anything_is_an_empty_schema_and_properties_are_then_optional():
    schemas = with_plan(SHOP)["components"]["schemas"]
    mapping = schemas["EventBatch"]["properties"]["messageBody"]["items"]["discriminator"]["mapping"]
    app_opened = schemas[mapping["app_opened"].rsplit("/", 1)[1]]["allOf"][1]
    assert app_opened["properties"]["properties"] == {}
    assert app_opened["required"] == ["eventType"]


def test_with_other_types_allowed_a_branch_takes_every_type_the_plan_does_not_name(tmp_path):
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"eventTypes": {"Signed Up": {"properties": True}}, "otherEventTypes": "allow"}))
    items = with_plan(plan, "flag")["components"]["schemas"]["EventBatch"]["properties"]["messageBody"]["items"]
    assert "discriminator" not in items  # its mapping cannot name "any other type"
    _, other = items["oneOf"]
    assert other == {
        "allOf": [
            {"$ref": "#/components/schemas/Event"},
            {"type": "object", "properties": {"eventType": {"not": {"enum": ["Signed Up"]}}}},
        ]
    }


def test_the_description_names_the_plan_and_its_mode():
    description = with_plan(SHOP)["info"]["description"]
    assert "tracking plan (`COLLECTOR_TRACKING_PLAN`): 6 event types" in description
    assert "`COLLECTOR_TRACKING_PLAN_MODE=refuse`" in description



@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        (True, {}),
        (False, {"not": {}}),
        ({"const": "free"}, {"enum": ["free"]}),
        ({"type": "number", "exclusiveMaximum": 10}, {"type": "number", "maximum": 10, "exclusiveMaximum": True}),
        ({"type": ["string", "null"], "format": "uri"}, {"type": "string", "nullable": True, "format": "uri"}),
        ({"type": ["string", "integer"]}, {"allOf": [{"anyOf": [{"type": "string"}, {"type": "integer"}]}]}),
        (
            {"type": "array", "prefixItems": [{"type": "string"}], "items": {"const": 1}},
            {"type": "array", "items": {"enum": [1]}},
        ),
        (
            {"type": "object", "properties": {"a": {"const": 1}}, "additionalProperties": False, "minProperties": 1},
            {"type": "object", "properties": {"a": {"enum": [1]}}, "additionalProperties": False, "minProperties": 1},
        ),
        (
            {"type": "object", "dependentRequired": {"a": ["b"]}, "unevaluatedProperties": False},
            {"type": "object"},
        ),
        ({"anyOf": [{"const": 1}, True], "examples": ["x", "y"]}, {"anyOf": [{"enum": [1]}, {}], "example": "x"}),
    ],
)
def test_schemas_are_written_in_openapi_30_words(schema, expected):
    assert openapi30(schema) == expected
