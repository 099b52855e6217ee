"""The hand-written parts of the OpenAPI document: what no marshmallow schema says.

The patterns of the rules written as `Rule` callables, the query and header
parameters, the write-key schemes, the response headers and bodies, and the
operators' endpoints. `openapi.py` puts them together with what is generated.
Plain data: no settings, no request, no I/O.
"""

from __future__ import annotations

import json
from typing import Any

from ..ingest import dryrun, keys

# `is_valid_event_type` as a pattern (ECMA-262 and Python alike): no control
# character (Cc) anywhere, and at least one character that str.isspace() does
# not call blank. tests/unit/openapi/test_document.py checks it on every code point.
_CONTROL = r"\u0000-\u001f\u007f-\u009f"
_BLANK = r" \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
EVENT_TYPE_PATTERN = f"^[^{_CONTROL}]*[^{_CONTROL}{_BLANK}][^{_CONTROL}]*$"
# `timestamp_problem`'s shape; the calendar (no 2026-02-30) is the date-time format's.
TIMESTAMP_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})$"
)

EXAMPLE_REQUEST = {
    "messageBody": [{"eventType": "page_view", "properties": {"path": "/pricing"}}],
    "messageheader": {"appVersion": "2.4.1"},
}
EXAMPLE_CREATED = {"headers": {}, "value": json.dumps({"pingId": "c523aa41-9f0f-4fc2-bc96-5a8ff5520b78"})}
EXAMPLE_VALIDATED = {"valid": True, "events": 1}
ERROR_EXAMPLES = {
    400: {
        "error": "Bad Request",
        "message": "invalid event type",
        "statusCode": 400,
        "code": "invalid_event_type",
        "details": {"messageBody": {"0": {"eventType": ["invalid event type"]}}},
    },
    429: {
        "error": "Too Many Requests",
        "message": "rate limit exceeded: 1000 per 1 minute",
        "statusCode": 429,
        "code": "rate_limited",
    },
}

VALIDATE_PARAMETER = {
    "name": dryrun.PARAMETER,
    "in": "query",
    "required": False,
    "description": "`1`: run every check of a real call, store nothing, answer 200. `0` or absent: a real call. "
    "Any other value, or the parameter twice: 400 `invalid_query`.",
    "schema": {"type": "integer", "enum": sorted(int(value) for value in dryrun.VALUES)},
}
# How the body may be compressed. Not a header parameter: a free `Content-Encoding`
# parameter tells generated clients (and schemathesis) that `gzip` may be sent
# with any body, and a plain body sent so is refused. It describes the body's
# bytes, so it is said where the body is (OpenAPI 3.0 has no field for it).
CONTENT_ENCODING_DESCRIPTION = (
    " The body may be sent gzip-compressed, the same JSON gzipped, with the header `Content-Encoding: gzip` "
    "(one or more gzip members; the size limits apply to it once decompressed); send that header only with "
    "a gzipped body, which is otherwise refused with 400 `invalid_gzip`. Without it (or with `identity`) the "
    "body is sent as is."
)

SECURITY_SCHEMES = {
    "bearerWriteKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "A write key as `Authorization: Bearer <key>`; needed when the service has keys "
        "(`COLLECTOR_API_KEYS`, `COLLECTOR_API_KEYS_FILE`), else 401.",
    },
    "headerWriteKey": {"type": "apiKey", "in": "header", "name": keys.HEADER, "description": "A write key"},
    "queryWriteKey": {
        "type": "apiKey",
        "in": "query",
        "name": keys.QUERY_PARAMETER,
        "description": "A write key, for `navigator.sendBeacon` and pixels, which cannot set headers",
    },
}

RATE_LIMIT_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")
HEADERS: dict[str, dict[str, Any]] = {
    "X-RateLimit-Limit": {
        "description": "Requests (or events, with `COLLECTOR_RATE_LIMIT_COST=event`) allowed per window, "
        "of the limit hit, or else the shortest one",
        "schema": {"type": "integer", "minimum": 0},
    },
    "X-RateLimit-Remaining": {
        "description": "What is left of that window",
        "schema": {"type": "integer", "minimum": 0},
    },
    "X-RateLimit-Reset": {
        "description": "When that window resets: UTC epoch seconds",
        "schema": {"type": "integer", "minimum": 0},
    },
    "WWW-Authenticate": {
        "description": "How to present a write key: `Bearer`",
        "required": True,
        "schema": {"type": "string"},
    },
    "Retry-After": {
        "description": "Seconds to wait before resending; nothing of the request was kept",
        "required": True,
        "schema": {"type": "integer", "minimum": 1},
    },
}

BODY_SCHEMAS: dict[str, dict[str, Any]] = {
    "Created": {
        "type": "object",
        "description": "The Events API's shape for a stored request.",
        "required": ["headers", "value"],
        "properties": {
            "headers": {"type": "object", "description": "always empty", "maxProperties": 0},
            "value": {
                "type": "string",
                "description": 'JSON text, not an object: `{"pingId": "<uuid4>"}`; the pingId is stored '
                "with every event of the request.",
                "pattern": r'^\{"pingId": "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"\}$',
            },
        },
        "additionalProperties": False,
    },
    "Validated": {
        "type": "object",
        "description": "A dry run's answer for a request a real call would have stored.",
        "required": ["valid", "events"],
        "properties": {
            "valid": {"type": "boolean", "enum": [True]},
            "events": {"type": "integer", "minimum": 1, "description": "events in the request"},
        },
        "additionalProperties": False,
    },
    "Error": {
        "type": "object",
        "description": "Every error, whatever its status: the Events API's `error`, `message` and "
        "`statusCode`, plus a stable `code`, and `details` for a validation error.",
        "required": ["error", "message", "statusCode", "code"],
        "properties": {
            "error": {"type": "string", "description": "the status's reason phrase"},
            "message": {"type": "string", "description": "for people; its wording may change"},
            "statusCode": {"type": "integer", "description": "the response's status"},
            "code": {"type": "string", "description": "for programs; never changes"},
            "details": {
                "type": "object",
                "description": "what is wrong with each field at fault, by path: "
                '`{"messageBody": {"0": {"eventType": ["invalid event type"]}}}`',
            },
        },
        "additionalProperties": False,
    },
}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


_OK = {"type": "string", "enum": ["ok"]}

OPERATOR_PATHS: dict[str, dict[str, Any]] = {
    "/healthz": {
        "operationId": "healthz",
        "summary": "The process answers (liveness); never rate-limited",
        "responses": {
            "200": {
                "description": "alive",
                "content": _json({"type": "object", "required": ["status"], "properties": {"status": _OK}}),
            }
        },
    },
    "/readyz": {
        "operationId": "readyz",
        "summary": "The data directory takes a write (readiness, for a load balancer); never rate-limited",
        "responses": {
            "200": {
                "description": "ready",
                "content": _json(
                    {
                        "type": "object",
                        "required": ["status"],
                        "properties": {"status": _OK},
                    }
                ),
            },
            "503": {
                "description": "events cannot be stored now (`storage_unavailable`)",
                "headers": {"Retry-After": {"$ref": "#/components/headers/Retry-After"}},
                "content": _json({"$ref": "#/components/schemas/Error503"}),
            },
        },
    },
    "/metrics": {
        "operationId": "metrics",
        "summary": "Prometheus' text format, summed over the workers; never rate-limited",
        "responses": {
            "200": {"description": "the metrics", "content": {"text/plain": {"schema": {"type": "string"}}}}
        },
    },
    "/openapi.json": {
        "operationId": "openapi",
        "summary": "This document, for this service's settings; never rate-limited",
        "responses": {"200": {"description": "OpenAPI 3.0", "content": _json({"type": "object"})}},
    },
}
