"""The tracking plan compiled once: each event type's validators, and the check of one event against them."""

from __future__ import annotations

import copy
import dataclasses
import itertools
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import jsonschema_rs

from .messages import Violation, violations

# Violations reported per event, at most: enough to fix an event in one go,
# while an event far off the plan (hundreds of unexpected keys) costs a
# bounded time to check and a bounded size to store (`planViolations`) or to
# answer (refuse mode's `details`). Those kept are the first in pointer order
# of the first few errors the library reports (it reports in schema order).
MAX_VIOLATIONS = 10

OTHER_EVENT_TYPES = ("allow", "refuse")


@dataclasses.dataclass(frozen=True)
class EventType:
    """One event type of the plan: its description, its schemas as written, and their validators."""

    name: str
    description: str
    properties_schema: Any
    properties_validator: Any
    context_schema: Any = None
    context_validator: Any = None


class TrackingPlan:
    """A loaded plan: `check(event)` gives the event's violations; an empty list is a pass."""

    def __init__(self, source: str, types: Mapping[str, EventType], other_event_types: str) -> None:
        if other_event_types not in OTHER_EVENT_TYPES:
            raise ValueError(f"otherEventTypes must be one of {OTHER_EVENT_TYPES}, not {other_event_types!r}")
        self.source = source
        self._types = dict(types)
        self.other_event_types = other_event_types

    @property
    def event_types(self) -> tuple[str, ...]:
        """The event types the plan names, in the plan's order."""
        return tuple(self._types)

    def __repr__(self) -> str:
        return f"<TrackingPlan {self.source}: {len(self._types)} event types, otherEventTypes={self.other_event_types}>"

    def check(self, event: Mapping[str, Any]) -> list[Violation]:
        """The event's violations of the plan, in JSON pointer order, at most MAX_VIOLATIONS.

        The event is one that passed the envelope's checks (a string `eventType`,
        `properties` and `context` objects when present). A missing `properties`
        (or `context`, when the plan has a schema for it) is checked as `{}`, so
        that its required properties are reported missing.
        """
        event_type = event.get("eventType")
        # Not a string only if the envelope's check was skipped: then it is no type of the plan (and no TypeError).
        known = self._types.get(event_type) if isinstance(event_type, str) else None
        if known is None:
            if self.other_event_types == "refuse":
                return [Violation("/eventType", "not an event type of the tracking plan")]
            return []
        found = _violations(known.properties_validator, event.get("properties"), "/properties")
        if known.context_validator is not None:
            found += _violations(known.context_validator, event.get("context"), "/context")
        if not found:
            return found
        found.sort()
        return found[:MAX_VIOLATIONS]

    def schemas_for_openapi(self) -> dict[str, Any]:
        """Each event type's `properties` schema, by type name in the plan's order, made to stand alone in a document.

        Draft 2020-12 schemas are OpenAPI 3.1 schema objects, except that a
        `$ref` such as `#/$defs/money` would be read against the OpenAPI
        document's root once embedded there: references are inlined, and a
        schema whose references are circular (they cannot be inlined) gets an
        `$id`, against which 3.1 resolves them. The plan is left as it is.
        """
        return {name: _standalone(name, known.properties_schema) for name, known in self._types.items()}

    def context_schemas_for_openapi(self) -> dict[str, Any]:
        """Each `context` schema of the plan, by type name, made to stand alone as `schemas_for_openapi` makes them."""
        return {
            name: _standalone(name, known.context_schema)
            for name, known in self._types.items()
            if known.context_validator is not None
        }

    def description(self, event_type: str) -> str:
        """The plan's description of a type it names ('' when it gives none)."""
        return self._types[event_type].description


def _standalone(name: str, schema: Any) -> Any:
    if not _refers(schema):
        return copy.deepcopy(schema)
    inlined = jsonschema_rs.dereference(schema, draft=jsonschema_rs.Draft202012, offline=True)
    if _refers(inlined) and "$id" not in inlined:
        inlined["$id"] = f"urn:collector:tracking-plan:{quote(name, safe='')}"
    return inlined


def _refers(schema: Any) -> bool:
    """Whether a `$ref` keyword is anywhere in the schema."""
    if isinstance(schema, dict):
        return "$ref" in schema or any(_refers(value) for value in schema.values())
    if isinstance(schema, list):
        return any(_refers(value) for value in schema)
    return False


def _violations(validator: Any, instance: Any, prefix: str) -> list[Violation]:
    if instance is None:
        instance = {}
    # The fast path: a valid event (the common case) builds no error objects.
    if validator.is_valid(instance):
        return []
    # Bounded reading: each error gives at least one violation, and the
    # library reports them in schema order, so the first few suffice.
    errors = itertools.islice(validator.iter_errors(instance), MAX_VIOLATIONS * 4)
    return [violation for error in errors for violation in violations(error, prefix)]
