"""Messages and pointers of violations: JSON type names, RFC 6901 escaping,
enums cut short, library messages kept short.
"""

from __future__ import annotations

from types import SimpleNamespace

import jsonschema_rs
import pytest

from collector.plan.messages import (
    ENUM_VALUES_SHOWN,
    MESSAGE_MAX_CHARS,
    Violation,
    by_path,
    json_type,
    message,
    pointer,
    violations,
)


@pytest.mark.parametrize(
    "parts, expected",
    [([], ""), (["properties", "price"], "/properties/price"), (["a/b", "~c", 0], "/a~1b/~0c/0"), ([""], "/")],
)
def test_pointer_follows_rfc_6901(parts, expected):
    assert pointer(parts) == expected


@pytest.mark.parametrize(
    "value, name",
    [
        (None, "null"),
        (True, "boolean"),
        (1, "integer"),
        (10**30, "integer"),
        (1.5, "number"),
        ("", "string"),
        ([], "array"),
        ({}, "object"),
    ],
)
def test_json_type_names_a_bool_apart_from_integers(value, name):
    assert json_type(value) == name


def test_a_long_enum_is_listed_in_part():
    options = [f"v{n}" for n in range(ENUM_VALUES_SHOWN + 5)]
    text = message("enum", {"options": options}, None)
    assert text.startswith("not one of 'v0', 'v1'") and text.endswith("'v9' (and 5 more)")


def test_enum_values_other_than_strings_are_shown_as_json():
    assert message("enum", {"options": [1, None, True, "it's"]}, None) == "not one of 1, null, true, 'it\\'s'"


def test_a_keyword_without_a_message_of_ours_keeps_the_librarys_cut_short():
    error = SimpleNamespace(message="x" * 1000)
    assert message("dependentSchemasOfTheFuture", {}, error) == "x" * MESSAGE_MAX_CHARS


@pytest.mark.parametrize(
    "schema, instance, expected",
    [
        ({"anyOf": [{"type": "string"}]}, 1, "matches none of the schemas of anyOf"),
        ({"oneOf": [{}, {}]}, 1, "does not match exactly one of the schemas of oneOf"),
        ({"not": {}}, 1, "matches the schema of not"),
        ({"contains": {"type": "string"}}, [1], "not as many items as contains asks match it"),
        ({"propertyNames": {"maxLength": 1}}, {"ab": 1}, "a property name does not fit propertyNames"),
        ({"prefixItems": [{}], "unevaluatedItems": False}, [1, 2], "more items than the plan describes"),
        ({"multipleOf": 5}, 7, "not a multiple of 5"),
        ({"uniqueItems": True}, [1, 1], "items not unique"),
        ({"maxItems": 1}, [1, 2], "more than 1 items"),
        ({"minProperties": 1}, {}, "fewer than 1 properties"),
        ({"maxProperties": 0}, {"a": 1}, "more than 0 properties"),
        ({"exclusiveMaximum": 1}, 1, "not less than 1"),
    ],
)
def test_combining_and_other_keywords_have_messages_that_do_not_quote_the_value(schema, instance, expected):
    validator = jsonschema_rs.Draft202012Validator(schema)
    found = [violation for error in validator.iter_errors(instance) for violation in violations(error, "/properties")]
    assert found == [Violation("/properties", expected)]


def test_by_path_gives_refuse_modes_details_of_one_event():
    found = [Violation("/properties/a", "x"), Violation("/properties/a", "y"), Violation("/properties/b", "z")]
    assert by_path(found) == {"/properties/a": ["x", "y"], "/properties/b": ["z"]}
    assert by_path([]) == {}
