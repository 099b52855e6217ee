"""A tracking plan drafted from stored events (`collector plan infer`): how a team starts writing one.

For each type seen, each top-level property of `properties`: its JSON type
(integers and fractions together are a number), a format when every string
value has it (tried in the order of FORMATS, with the validator the plan
uses, so that the draft passes on the events it came from), `required` when
present in at least `min_share` of the type's events, and an `enum` for a
string with few distinct values (at most ENUM_MAX_VALUES, seen in at least
ENUM_MIN_EVENTS events: a handful of events says nothing about a category;
never for a formatted string: a URL or a date is not a category). Nested
objects and arrays get their type only; `context` is not drafted.

The draft is strict where a plan earns its keep: `additionalProperties`
false (a typo in a property name is flagged) and `otherEventTypes` refuse
(a type never seen is flagged). The team loosens what it means to allow.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

import jsonschema_rs

from .messages import json_type

FORMATS = ("date-time", "uuid", "email", "uri")
ENUM_MAX_VALUES = 10
ENUM_MIN_EVENTS = 20
# Property names followed per type: a store whose events carry ever new keys
# (ids as keys) would otherwise grow the draft without bound. A type with more
# is drafted without additionalProperties false, and its description says so.
MAX_PROPERTIES = 200


@dataclasses.dataclass
class _Property:
    present: int = 0
    types: set[str] = dataclasses.field(default_factory=set)
    formats: list[str] = dataclasses.field(default_factory=lambda: list(FORMATS))
    values: set[str] | None = dataclasses.field(default_factory=set)  # None: too many to be an enum

    def add(self, value: Any, format_checks: Mapping[str, Any]) -> None:
        self.present += 1
        self.types.add(json_type(value))
        if isinstance(value, str):
            self.formats = [name for name in self.formats if format_checks[name].is_valid(value)]
            if self.values is not None:
                self.values.add(value)
                if len(self.values) > ENUM_MAX_VALUES:
                    self.values = None

    def schema(self) -> dict[str, Any]:
        types = self.types - {"integer"} if {"integer", "number"} <= self.types else self.types
        schema: dict[str, Any] = {"type": next(iter(types)) if len(types) == 1 else sorted(types)}
        if "string" in types and self.formats:
            schema["format"] = self.formats[0]
        elif types == {"string"} and self.values is not None and self.present >= ENUM_MIN_EVENTS:
            schema["enum"] = sorted(self.values)
        return schema


@dataclasses.dataclass
class _Type:
    events: int = 0
    properties: dict[str, _Property] = dataclasses.field(default_factory=dict)
    overflow: bool = False

    def draft(self, min_share: float) -> dict[str, Any]:
        names = sorted(self.properties)
        schema: dict[str, Any] = {
            "type": "object",
            "properties": {name: self.properties[name].schema() for name in names},
        }
        required = [name for name in names if self.properties[name].present >= min_share * self.events]
        if required:
            schema["required"] = required
        description = f"Drafted by `collector plan infer` from {self.events} events."
        if self.overflow:
            description += (
                f" More than {MAX_PROPERTIES} property names: only the first are described, and others are allowed."
            )
        else:
            schema["additionalProperties"] = False
        return {"description": description, "properties": schema}


class Inference:
    """Events added one by one (the store is streamed, never held); `draft()` gives the plan document."""

    def __init__(self, min_share: float = 0.95) -> None:
        if not 0 < min_share <= 1:
            raise ValueError(f"min_share is greater than 0 and at most 1, not {min_share}")
        self.min_share = min_share
        self._types: dict[str, _Type] = {}
        self._format_checks = {
            name: jsonschema_rs.Draft202012Validator({"format": name}, validate_formats=True) for name in FORMATS
        }

    def add(self, event: Mapping[str, Any]) -> None:
        seen = self._types.setdefault(str(event.get("eventType")), _Type())
        seen.events += 1
        properties = event.get("properties")
        for name, value in (properties if isinstance(properties, dict) else {}).items():
            known = seen.properties.get(name)
            if known is None:
                if len(seen.properties) >= MAX_PROPERTIES:
                    seen.overflow = True
                    continue
                known = seen.properties[name] = _Property()
            known.add(value, self._format_checks)

    @property
    def events(self) -> int:
        return sum(seen.events for seen in self._types.values())

    def draft(self) -> dict[str, Any]:
        """The plan document: types in name order, `otherEventTypes` refuse."""
        types = {name: self._types[name].draft(self.min_share) for name in sorted(self._types)}
        return {"eventTypes": types, "otherEventTypes": "refuse"}


def infer(events: Iterable[Mapping[str, Any]], min_share: float = 0.95) -> dict[str, Any]:
    """A plan document drafted from `events` (see the module's docstring)."""
    inference = Inference(min_share)
    for event in events:
        inference.add(event)
    return inference.draft()
