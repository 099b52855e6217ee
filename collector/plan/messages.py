"""A schema library's error as the collector says it: a JSON pointer within the event and a short message.

Messages name what was expected, and do not repeat the value sent (it may be
long, or personal data, and it goes to logs and reports): the sender has its
event, the pointer says where to look. Only a keyword this module does not
know keeps the library's own message (which may quote the value), cut short.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple

# Of an enum's allowed values, the message lists this many and counts the rest.
ENUM_VALUES_SHOWN = 10
# A library message used as it is (a keyword without a message of ours) is cut here.
MESSAGE_MAX_CHARS = 200


class Violation(NamedTuple):
    """One fault of an event against the plan: where (a JSON pointer within the event) and what."""

    path: str
    message: str

    def as_dict(self) -> dict[str, str]:
        """As stored on a flagged line: `{"path": ..., "message": ...}`."""
        return {"path": self.path, "message": self.message}


def by_path(violations: Iterable[Violation]) -> dict[str, list[str]]:
    """The messages of violations by their path, in their order: refuse mode's `details` for one event.

    `{"/properties/price": ["expected number, got string"]}`, as the API gives
    a field's messages today, with the JSON pointer in place of the field name.
    """
    found: dict[str, list[str]] = {}
    for path, text in violations:
        found.setdefault(path, []).append(text)
    return found


def pointer(parts: Sequence[str | int]) -> str:
    """An RFC 6901 JSON pointer: each part after a '/', with '~' as '~0' and '/' as '~1'."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def json_type(value: Any) -> str:
    """The JSON type name of a parsed JSON value (a bool is not an integer, as in JSON Schema)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def violations(error: Any, prefix: str) -> Iterator[Violation]:
    """The violations of one jsonschema-rs error, at `prefix` + its instance path.

    A missing required property and an unexpected one are each reported at the
    property's own pointer, so that a client sees which key to fix.
    """
    at = prefix + pointer(error.instance_path)
    kind = error.kind
    name = kind.name
    if name == "required":
        yield Violation(at + pointer([kind.property]), "required property missing")
    elif name in ("additionalProperties", "unevaluatedProperties"):
        for key in kind.unexpected:
            yield Violation(at + pointer([key]), "not a property of the plan")
    else:
        yield Violation(at, message(name, kind.as_dict(), error))


def message(keyword: str, facts: dict[str, Any], error: Any) -> str:
    """A short message for a failed keyword, from what the library says about it."""
    if keyword == "type":
        return f"expected {' or '.join(facts['types'])}, got {json_type(error.instance)}"
    if keyword == "enum":
        return "not one of " + _listed(facts["options"])
    if keyword == "const":
        return "expected " + _shown(facts["expected_value"])
    if keyword == "format":
        return f"not a valid {facts['format']}"
    limit = facts.get("limit")
    texts = {
        "minimum": f"less than the minimum {limit}",
        "maximum": f"greater than the maximum {limit}",
        "exclusiveMinimum": f"not greater than {limit}",
        "exclusiveMaximum": f"not less than {limit}",
        "minLength": f"shorter than {limit} characters",
        "maxLength": f"longer than {limit} characters",
        "minItems": f"fewer than {limit} items",
        "maxItems": f"more than {limit} items",
        "minProperties": f"fewer than {limit} properties",
        "maxProperties": f"more than {limit} properties",
        "pattern": f"does not match the pattern {_shown(facts.get('pattern'))}",
        "multipleOf": f"not a multiple of {facts.get('multiple_of')}",
        "uniqueItems": "items not unique",
        "falseSchema": "not allowed",
        "anyOf": "matches none of the schemas of anyOf",
        "oneOf": "does not match exactly one of the schemas of oneOf",
        "not": "matches the schema of not",
        "contains": "not as many items as contains asks match it",
        "propertyNames": "a property name does not fit propertyNames",
        "unevaluatedItems": "more items than the plan describes",
    }
    if keyword in texts:
        return texts[keyword]
    return str(error.message)[:MESSAGE_MAX_CHARS]


def _listed(options: Any) -> str:
    shown = ", ".join(_shown(option) for option in options[:ENUM_VALUES_SHOWN])
    more = len(options) - ENUM_VALUES_SHOWN
    return shown + (f" (and {more} more)" if more > 0 else "")


def _shown(value: Any) -> str:
    """A plan's value in a message: a string in single quotes, anything else as JSON."""
    if isinstance(value, str):
        return "'" + value.replace("'", "\\'") + "'"
    return json.dumps(value, ensure_ascii=False)
