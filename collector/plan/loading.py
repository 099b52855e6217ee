"""Reading a tracking plan file and checking it, so that a bad plan stops start-up with one line.

The format (docs/tracking-plan.md): a JSON object, schemas in JSON Schema draft 2020-12,

    {"eventTypes": {TYPE: {"description": ..., "properties": SCHEMA, "context": SCHEMA}},
     "otherEventTypes": "allow"|"refuse"}

Only JSON: YAML would need a parser
the collector does not otherwise depend on, and every tool writes JSON.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs

from ..eventtypes import is_valid_event_type
from .compiled import OTHER_EVENT_TYPES, EventType, TrackingPlan
from .document import DocumentError, parse
from .messages import pointer

TOP_LEVEL = ("eventTypes", "otherEventTypes")
TYPE_KEYS = ("description", "properties", "context")
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"


class PlanError(ValueError):
    """A plan file that cannot be used; its str is one line naming the file and where in it the fault is."""

    def __init__(self, source: str, reason: str, at: str = "", line: int = 0, column: int = 0) -> None:
        self.source = source
        self.reason = reason
        self.at = at  # a JSON pointer within the plan file ("" is the whole document)
        self.line = line
        self.column = column
        where = f"{source} at {at}" if at else f"{source} at the top level"
        if line:  # the parser's position says more than a pointer
            where = f"{source}:{line}:{column}"
        # One line whatever the reason says (a library's message may hold newlines).
        super().__init__(f"tracking plan {where}: " + " ".join(reason.split()))


def load_plan(path: str | Path) -> TrackingPlan:
    """The plan in the file at `path`, compiled.

    :raises PlanError: unreadable, not JSON, a key named twice, not the plan format,
        or a schema that is not draft 2020-12.
    """
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise PlanError(source, f"cannot be read: {error}") from None
    return plan_from_text(text, source)


def plan_from_text(text: str, source: str = "<plan>") -> TrackingPlan:
    """The plan in `text` (a plan file's content), compiled; `source` names it in errors.

    :raises PlanError: as `load_plan`.
    """
    try:
        document = parse(text)
    except DocumentError as error:
        raise PlanError(source, error.reason, error.at, error.line, error.column) from None
    try:
        return _compiled(document, source)
    except DocumentError as error:
        raise PlanError(source, error.reason, error.at) from None
    except RecursionError:  # a schema nested deeper than the checks of it can follow
        raise PlanError(source, "nested too deeply") from None


def _compiled(document: Any, source: str) -> TrackingPlan:
    if not isinstance(document, dict):
        raise DocumentError("a plan is a JSON object with eventTypes and otherEventTypes")
    _only_keys(document, TOP_LEVEL, [], required=TOP_LEVEL)
    other = document["otherEventTypes"]
    if other not in OTHER_EVENT_TYPES:
        raise DocumentError("otherEventTypes is 'allow' or 'refuse'", "/otherEventTypes")
    named = document["eventTypes"]
    if not isinstance(named, dict) or not named:
        raise DocumentError("eventTypes is an object naming at least one event type", "/eventTypes")
    types = {name: _event_type(name, entry) for name, entry in named.items()}
    return TrackingPlan(source, types, other)


def _event_type(name: str, entry: Any) -> EventType:
    at: list[str | int] = ["eventTypes", name]
    if not is_valid_event_type(name):
        raise DocumentError(
            "not an eventType the collector accepts (1-128 characters, not blank, no control characters)", pointer(at)
        )
    if not isinstance(entry, dict):
        raise DocumentError("an event type is an object with properties (and description, context)", pointer(at))
    _only_keys(entry, TYPE_KEYS, at, required=("properties",))
    description = entry.get("description", "")
    if not isinstance(description, str):
        raise DocumentError("description is a string", pointer([*at, "description"]))
    properties = entry["properties"]
    context = entry.get("context")
    return EventType(
        name=name,
        description=description,
        properties_schema=properties,
        properties_validator=_validator(properties, [*at, "properties"]),
        context_schema=context,
        context_validator=None if context is None else _validator(context, [*at, "context"]),
    )


def _only_keys(entry: dict, allowed: tuple[str, ...], at: list[str | int], required: tuple[str, ...]) -> None:
    for key in entry:
        if key not in allowed:
            raise DocumentError(f"unknown key {key!r} (expected {', '.join(allowed)})", pointer([*at, key]))
    for key in required:
        if key not in entry:
            raise DocumentError(f"{key} is missing", pointer(at))


def _validator(schema: Any, at: list[str | int]) -> Any:
    """The schema's validator, built once; formats are asserted, and no schema is fetched from the network."""
    if not isinstance(schema, (dict, bool)):
        raise DocumentError("a JSON Schema is an object or a boolean", pointer(at))
    declared = schema.get("$schema", DRAFT_2020_12) if isinstance(schema, dict) else DRAFT_2020_12
    if not isinstance(declared, str) or declared.rstrip("#") != DRAFT_2020_12:
        raise DocumentError(f"schemas are JSON Schema draft 2020-12 ({DRAFT_2020_12})", pointer([*at, "$schema"]))
    try:
        # Formats asserted (draft 2020-12 makes them annotations by default):
        # a plan that says "format": "email" means it. An unknown format is a
        # typo to refuse, not a check to skip. `offline`: a remote $ref would
        # make start-up depend on another host being up.
        return jsonschema_rs.Draft202012Validator(
            schema, validate_formats=True, ignore_unknown_formats=False, offline=True
        )
    except jsonschema_rs.ValidationError as error:
        where = [*at, *error.instance_path]
        if error.kind.name == "$ref":  # the library says which reference, not where it is
            where = _reference(schema, at, error.message)
        raise DocumentError(f"not a valid JSON Schema: {_schema_fault(error, where)}", pointer(where)) from None
    except (jsonschema_rs.ReferencingError, ValueError) as error:
        raise DocumentError(f"not a valid JSON Schema: {error}", pointer(_reference(schema, at, str(error)))) from None


JSON_TYPES = "null, boolean, object, array, number, string, integer"
# A library message quoting a long value (a whole enum) is cut: the pointer says where to look.
REASON_MAX_CHARS = 200


def _schema_fault(error: Any, where: list[str | int]) -> str:
    """What is wrong with a schema, from the meta-schema's error: said for the plan's writer."""
    if where and where[-1] == "type" and error.kind.name == "anyOf":
        return f"type is one of {JSON_TYPES}, or a list of them"
    # The library's advice to ignore unknown formats is not the plan writer's to take.
    reason = error.message.split(". Adjust configuration")[0]
    return reason if len(reason) <= REASON_MAX_CHARS else reason[: REASON_MAX_CHARS - 3] + "..."


def _reference(schema: Any, at: list[str | int], reason: str) -> list[str | int]:
    """Where the `$ref` a reference error names is: the first whose target the reason quotes, else the first."""
    references = list(_references(schema, at))
    for where, target in references:
        fragment = target.partition("#")[2]
        if target in reason or (fragment and fragment in reason):
            return where
    return references[0][0] if references else at


def _references(schema: Any, at: list[str | int]) -> Iterator[tuple[list[str | int], str]]:
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "$ref" and isinstance(value, str):
                yield [*at, key], value
            else:
                yield from _references(value, [*at, key])
    elif isinstance(schema, list):
        for index, value in enumerate(schema):
            yield from _references(value, [*at, index])
