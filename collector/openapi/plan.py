"""The tracking plan in the OpenAPI document: each event type's schemas, selected by its `eventType`.

Without a plan an event is the envelope (`Event`). With one, `messageBody`'s
items are `oneOf` a branch per type of the plan: the envelope, `eventType`
one value (an `enum` of one: OpenAPI 3.0 has no `const`), and the plan's
`properties` (and `context`) schemas. A `discriminator` on `eventType` maps
each type to its branch, for generators that read it (schemathesis and most
generators go by the `oneOf`, which says the same); with `otherEventTypes:
allow` a last branch takes every type the plan does not name, which a
discriminator's mapping cannot say, so there is none then.

The plan's schemas are draft 2020-12 (their `$ref`s inlined, see
TrackingPlan.schemas_for_openapi); the document is OpenAPI 3.0 (apispec's),
whose schema objects spell a few things otherwise, and generators read them
by the document's version (schemathesis could not generate from a 2020-12
`exclusiveMinimum: 0` in a 3.0 document). So each schema is written in 3.0's
words (`openapi30`): `const` as a one-value `enum`, a numeric
`exclusiveMinimum` as `minimum` with `exclusiveMinimum: true`, a `"null"` in
a type list as `nullable`, several types as `anyOf`, `true` as `{}`.
Keywords 3.0 does not have (`prefixItems`, `dependentRequired`,
`unevaluatedProperties`, `if`/`then`/`else`, ...) are left out: the
document is then looser than the plan there, and the service still checks
them. An event without `properties` (or `context`) is checked as `{}`, so
the branch requires the key when `{}` breaks the plan, and a client
generated from the document always sends it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..plan import TrackingPlan

EVENT = {"$ref": "#/components/schemas/Event"}
OTHERS = {"allow": "other types taken unchecked", "refuse": "other types breaking it"}


def plan_schemas(plan: TrackingPlan) -> tuple[dict[str, Any], dict[str, Any]]:
    """The components to add (a `PlanEvent<n>` per type) and the schema of an item of `messageBody`."""
    properties = plan.schemas_for_openapi()
    contexts = plan.context_schemas_for_openapi()
    components: dict[str, Any] = {}
    mapping: dict[str, str] = {}
    for number, name in enumerate(plan.event_types, 1):
        # Numbered, not named after the type: a type name may hold spaces and other characters
        # a component name may not (`^[a-zA-Z0-9._-]+$`).
        component = f"PlanEvent{number}"
        components[component] = _branch(plan, name, properties[name], contexts.get(name))
        mapping[name] = f"#/components/schemas/{component}"
    branches: list[dict[str, Any]] = [{"$ref": ref} for ref in mapping.values()]
    if plan.other_event_types == "allow":
        others = {"type": "object", "properties": {"eventType": {"not": {"enum": list(plan.event_types)}}}}
        return components, {"oneOf": [*branches, {"allOf": [EVENT, others]}]}
    return components, {"oneOf": branches, "discriminator": {"propertyName": "eventType", "mapping": mapping}}


def _branch(plan: TrackingPlan, name: str, properties: Any, context: Any) -> dict[str, Any]:
    required = ["eventType"]
    # What an event sending neither key breaks: the key is then required.
    missing = {violation.path.split("/")[1] for violation in plan.check({"eventType": name})}
    own: dict[str, Any] = {"eventType": {"type": "string", "enum": [name]}, "properties": openapi30(properties)}
    if "properties" in missing:
        required.append("properties")
    if context is not None:
        own["context"] = openapi30(context)
        if "context" in missing:
            required.append("context")
    branch: dict[str, Any] = {"type": "object", "required": required, "properties": own}
    if plan.description(name):
        branch["description"] = plan.description(name)
    return {"allOf": [EVENT, branch]}


# Keywords OpenAPI 3.0's schema objects have (with 3.0's meaning), and those holding subschemas.
KEPT = frozenset(
    {"title", "description", "default", "examples", "format", "pattern", "enum", "required", "readOnly", "writeOnly",
     "multipleOf", "maximum", "minimum", "maxLength", "minLength", "maxItems", "minItems", "uniqueItems",
     "maxProperties", "minProperties", "deprecated"}
)
ONE_SCHEMA = ("items", "not", "additionalProperties")
SCHEMA_LISTS = ("allOf", "anyOf", "oneOf")


def openapi30(schema: Any) -> Any:
    """A draft 2020-12 schema in OpenAPI 3.0's words (see the module's docstring)."""
    if schema is True:
        return {}
    if schema is False:
        return {"not": {}}
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {key: value for key, value in schema.items() if key in KEPT}
    if "examples" in out:  # 3.0 has one `example`
        examples = out.pop("examples")
        if isinstance(examples, list) and examples:
            out["example"] = examples[0]
    if "const" in schema:
        out["enum"] = [schema["const"]]
    for bound, inclusive in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(schema.get(bound), (int, float)) and not isinstance(schema.get(bound), bool):
            out[inclusive], out[bound] = schema[bound], True
    if isinstance(schema.get("properties"), dict):
        out["properties"] = {name: openapi30(value) for name, value in schema["properties"].items()}
    for key in ONE_SCHEMA:
        if isinstance(schema.get(key), (dict, bool)):
            # additionalProperties takes a boolean in 3.0 too.
            keep = key == "additionalProperties" and isinstance(schema[key], bool)
            out[key] = schema[key] if keep else openapi30(schema[key])
    for key in SCHEMA_LISTS:
        if isinstance(schema.get(key), list):
            out[key] = [openapi30(value) for value in schema[key]]
    _types(schema.get("type"), out)
    return out


def _types(declared: Any, out: dict[str, Any]) -> None:
    if isinstance(declared, str):
        out["type"] = declared
        return
    if not isinstance(declared, list):
        return
    types = [name for name in declared if name != "null"]
    if len(types) < len(declared):
        out["nullable"] = True
    if len(types) == 1:
        out["type"] = types[0]
    elif types:
        out.setdefault("allOf", []).append({"anyOf": [{"type": name} for name in types]})


def describe(plan: TrackingPlan | None, mode: str) -> str:
    """A sentence of the document's description about the plan ('' without one)."""
    if plan is None:
        return ""
    effect = "refused (400 `tracking_plan_violation`)" if mode == "refuse" else "stored flagged (`planViolations`)"
    return (
        f" Events follow a tracking plan (`COLLECTOR_TRACKING_PLAN`): {len(plan.event_types)} event types, each with "
        f"its schemas (`messageBody`'s items, selected by `eventType`), {OTHERS[plan.other_event_types]}; "
        f"an event breaking it is {effect} (`COLLECTOR_TRACKING_PLAN_MODE={mode}`)."
    )
