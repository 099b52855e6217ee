"""The Segment-compatible routes in the OpenAPI document: their bodies, answers and write keys.

`openapi.document` adds these beside POST /collect/event; the error answers
are the same as that route's (the same checks refuse them with the same codes).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from ..ingest.segment import CALLS, MAX_BATCH_BYTES, MAX_MESSAGE_BYTES, REQUIRED_BY_CALL, RESERVED_FIELDS
from . import parts

_ID = {"type": "string", "maxLength": 256}
_OBJECT = {"type": "object", "additionalProperties": True}


def _message(call: str, event_types: frozenset[str]) -> dict[str, Any]:
    """A message of `call`: Segment's fields; any other is stored as sent, but for the collector's own."""
    properties: dict[str, Any] = {
        "type": {"type": "string", "enum": [call]},
        "event": {"type": "string", "minLength": 1, "maxLength": 128, "pattern": parts.EVENT_TYPE_PATTERN,
                  "description": "`track`: the event's name, stored as `eventType`",
                  **({"enum": sorted(event_types)} if event_types and call == "track" else {})},
        "name": {"type": "string"},
        "userId": {**_ID, "nullable": True},
        "anonymousId": {**_ID, "nullable": True},
        "groupId": {"type": "string"},
        "previousId": {"type": "string"},
        "messageId": {"type": "string", "minLength": 1, "maxLength": 128, "description": "stored as `eventId`"},
        "timestamp": {"type": "string", "format": "date-time", "pattern": parts.TIMESTAMP_PATTERN, "nullable": True},
        "properties": {**_OBJECT, "nullable": True},
        "traits": _OBJECT,
        "context": {**_OBJECT, "nullable": True},
        "integrations": _OBJECT,
    }
    required = {"track": ["event"], **{name: [field] for name, field in REQUIRED_BY_CALL.items()}}
    return {
        "type": "object",
        "properties": properties,
        "required": ["type", *required.get(call, [])],
        "additionalProperties": True,
        # The fields the collector sets on a stored line are refused in a message.
        "not": {"anyOf": [{"required": [field]} for field in sorted(RESERVED_FIELDS)]},
    }


def schemas(max_events: int, event_types: frozenset[str]) -> dict[str, dict[str, Any]]:
    """The Segment messages' schemas; `event_types`, when set, is the allow-list a `track`'s name must be in."""
    found = {f"Segment{call.capitalize()}": _message(call, event_types) for call in CALLS}
    # A message of a batch is one of the calls, told apart by its `type`.
    found["SegmentMessage"] = {
        "oneOf": [{"$ref": f"#/components/schemas/Segment{call.capitalize()}"} for call in CALLS],
        "discriminator": {
            "propertyName": "type",
            "mapping": {call: f"#/components/schemas/Segment{call.capitalize()}" for call in CALLS},
        },
    }
    found["SegmentBatch"] = {
        "type": "object",
        "required": ["batch"],
        "properties": {
            "batch": {
                "type": "array",
                "minItems": 1,
                "maxItems": max_events,
                "items": {"$ref": "#/components/schemas/SegmentMessage"},
            },
            "sentAt": {"type": "string", "format": "date-time", "pattern": parts.TIMESTAMP_PATTERN},
            "writeKey": {"type": "string", "description": "a write key, when no header carries one; never stored"},
        },
        "additionalProperties": True,
    }
    found["SegmentSuccess"] = {
        "type": "object", "required": ["success"], "properties": {"success": {"type": "boolean", "enum": [True]}}
    }
    return found


SECURITY_SCHEMES = {
    "basicWriteKey": {
        "type": "http",
        "scheme": "basic",
        "description": "A write key as the user name of HTTP Basic (no password), as Segment's SDKs send it",
    }
}


def paths(
    keys_required: bool, errors: dict[str, Any], response: Callable[[str, str, Any], dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """The operation of each route: `errors` are /collect/event's error answers, `response` makes one answer."""
    security: list[dict[str, list[str]]] = [] if keys_required else [{}]  # {}: no credential needed
    security += [{name: []} for name in (*SECURITY_SCHEMES, *parts.SECURITY_SCHEMES)]
    answers = {
        "200": {
            **response("Every message is stored (or, with validate=1, would be: nothing is).", "SegmentSuccess", None),
            "content": {"application/json": {"schema": {"oneOf": [
                {"$ref": "#/components/schemas/SegmentSuccess"}, {"$ref": "#/components/schemas/Validated"},
            ]}}},
        },
        **errors,
    }
    found = {
        "/v1/batch": _operation("segmentBatch", "Store a batch of Segment messages", "SegmentBatch", security, answers)
    }
    for call in CALLS:
        found[f"/v1/{call}"] = _operation(
            f"segment{call.capitalize()}", f"Store one Segment `{call}` call", f"Segment{call.capitalize()}",
            security, answers,
        )
    return copy.deepcopy(found)


def _operation(operation_id: str, summary: str, schema: str, security: list, answers: dict) -> dict[str, Any]:
    body = {"schema": {"$ref": f"#/components/schemas/{schema}"}}
    return {
        "operationId": operation_id,
        "summary": summary,
        "description": (
            "Segment's HTTP tracking API (docs/segment-api.md has the mapping to stored lines): each message is "
            "stored as one line, or nothing of the request is. Under the same rate limit as `/collect/event`. "
            f"At most {MAX_MESSAGE_BYTES} bytes per message and {MAX_BATCH_BYTES} bytes per request (or the "
            "collector's own limits when lower). The browser's SDK posts the same bodies to `/v1/b` (a batch) "
            "and `/v1/t`, `/v1/p`, `/v1/s`, `/v1/i`, `/v1/g`, `/v1/a` (one call): the same routes under other names."
        ),
        "parameters": [parts.VALIDATE_PARAMETER],
        "security": security,
        "requestBody": {
            "required": True,
            "description": "Segment's JSON (as `text/plain` too, as the browser's SDK sends it)."
            + parts.CONTENT_ENCODING_DESCRIPTION,
            "content": {"application/json": body, "text/plain": body},
        },
        "responses": answers,
    }
