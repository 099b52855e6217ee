"""The contract as an OpenAPI 3 document, generated from the request schemas; served at GET /openapi.json.

apispec's marshmallow plugin turns the schemas of `schemas.py` into the
request body's components. What it cannot read is added here (the parts
themselves are in `parts`): the rules written as `Rule` callables
(eventType, timestamp, header values), the contract's odd 201 body, the dry
run's 200, and one error response per status listing the codes of
`collector.errors.CODES` that POST /collect/event can return, so that a code
declared there appears here by itself.

The document depends on the settings (the most events per request, the
allow-list of event types, the size limits, write keys): the service serves
the one for its own settings; docs/openapi.json is the one for the defaults,
printed by `python -m collector openapi`, and a test fails when the two differ.
"""

from __future__ import annotations

import copy
import importlib.metadata
import json
from typing import TYPE_CHECKING, Any

import flask
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from werkzeug.http import HTTP_STATUS_CODES

from ..errors import (
    CODES,
    CORS_PREFLIGHT_REFUSED,
    HOST_NOT_ALLOWED,
    INTERNAL_ERROR,
    METHOD_NOT_ALLOWED,
    NOT_FOUND,
    RANGE_NOT_SATISFIABLE,
    ErrorCode,
)
from ..ingest.schemas import MAX_HEADER_KEYS, build_request_schema
from . import parts
from . import plan as plan_parts
from . import segment as segment_parts

if TYPE_CHECKING:
    from ..settings import Settings

bp = flask.Blueprint("openapi", __name__)
_EXTENSION = "collector.openapi"

# Codes no request to POST /collect/event gets: other paths and methods, and a
# bug (a 500 is not part of the contract; schemathesis fails on one).
# The console's own refusals (collector/console/) are not answers of this route
# either, nor is a refused CORS preflight (an OPTIONS).
NOT_OF_COLLECT = frozenset(
    {
        NOT_FOUND.code,
        METHOD_NOT_ALLOWED.code,
        INTERNAL_ERROR.code,
        CORS_PREFLIGHT_REFUSED.code,
        HOST_NOT_ALLOWED.code,
        RANGE_NOT_SATISFIABLE.code,
    }
)


def init_app(app: flask.Flask, settings: Settings) -> None:
    """Serve the document for `settings` at GET /openapi.json.

    A blueprint of its own, outside the ingest one that the limiter limits
    whole: like /healthz, reading the contract never costs a client its budget.
    """
    app.extensions[_EXTENSION] = render(document(settings))
    app.register_blueprint(bp)


@bp.get("/openapi.json")
def openapi_json() -> flask.Response:
    return flask.Response(flask.current_app.extensions[_EXTENSION], mimetype="application/json")


def render(doc: dict[str, Any]) -> bytes:
    """The document as committed in docs/openapi.json: indented, keys sorted, a final newline."""
    return (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode()


def document(settings: Settings) -> dict[str, Any]:
    """The OpenAPI 3.0 document of the service run with `settings`."""
    spec = APISpec(
        title="collector",
        version=_version(),
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={"description": _describe_service(settings)},
    )
    # apispec resolves references in the dicts it is given, in place: it gets copies.
    spec.components.schema("EventBatch", schema=build_request_schema(settings.max_events, settings.event_types))
    for name, schema in {**parts.BODY_SCHEMAS, **_error_schemas()}.items():
        spec.components.schema(name, copy.deepcopy(schema))
    for name, header in parts.HEADERS.items():
        spec.components.header(name, copy.deepcopy(header))
    for name, schema in segment_parts.schemas(settings.max_events, settings.event_types).items():
        spec.components.schema(name, schema)
    for name, scheme in {**parts.SECURITY_SCHEMES, **segment_parts.SECURITY_SCHEMES}.items():
        spec.components.security_scheme(name, copy.deepcopy(scheme))
    collect = _collect_operation(settings)
    spec.path(path="/collect/event", operations={"post": collect})
    errors = {status: answer for status, answer in collect["responses"].items() if status[0] in "45"}
    for path, operation in segment_parts.paths(bool(settings.write_keys), errors, _response).items():
        spec.path(path=path, operations={"post": operation})
    for path, operation in parts.OPERATOR_PATHS.items():
        spec.path(path=path, operations={"get": copy.deepcopy(operation)})
    doc = spec.to_dict()
    _refine_request_schemas(doc["components"]["schemas"], settings.event_types)
    if settings.tracking_plan is not None:
        components, item = plan_parts.plan_schemas(settings.tracking_plan)
        doc["components"]["schemas"].update(components)
        doc["components"]["schemas"]["EventBatch"]["properties"]["messageBody"]["items"] = item
    return doc


def collect_error_codes() -> dict[int, list[ErrorCode]]:
    """Every code POST /collect/event can answer with, by status: `CODES` but other routes' and a bug's."""
    by_status: dict[int, list[ErrorCode]] = {}
    for kind in CODES.values():
        if kind.code not in NOT_OF_COLLECT:
            by_status.setdefault(kind.status, []).append(kind)
    return dict(sorted(by_status.items()))


def _version() -> str:
    try:
        return importlib.metadata.version("collector")
    except importlib.metadata.PackageNotFoundError:  # run from a checkout without `pip install -e .`
        return "0+unknown"


def _describe_service(settings: Settings) -> str:
    allowed = ", ".join(f"`{name}`" for name in sorted(settings.event_types)) or "any well-formed type"
    keys = "required" if settings.write_keys else "not required (`COLLECTOR_API_KEYS` is empty)"
    return (
        "A self-hosted event collection service: clients POST JSON events to `/collect/event`; a `201` is sent "
        "only once every event of the request is stored, and any refusal stores nothing of the request.\n\n"
        "The allow-list of event types, the limits and the write keys are settings of each service. This "
        f"document describes a service with these: at most {settings.max_events} events per request "
        f"(`COLLECTOR_MAX_EVENTS`), bodies of at most {settings.max_body_bytes} bytes "
        f"(`COLLECTOR_MAX_BODY_BYTES`), events of at most {settings.max_event_bytes} bytes as stored "
        f"(`COLLECTOR_MAX_EVENT_BYTES`), event types: {allowed} (`COLLECTOR_EVENT_TYPES`), a write key {keys}. "
        "A service serves its own at `GET /openapi.json`; `docs/openapi.json` is the one for the default settings."
        + plan_parts.describe(settings.tracking_plan, settings.tracking_plan_mode)
    )


def _collect_operation(settings: Settings) -> dict[str, Any]:
    body = {"schema": "EventBatch", "example": parts.EXAMPLE_REQUEST}
    errors = collect_error_codes()
    return copy.deepcopy(
        {
            "operationId": "collectEvents",
            "summary": "Store a batch of events, or check it without storing (validate=1)",
            "description": (
                "Accepted or refused whole: one bad event refuses the request, and nothing of it is stored. "
                "Every answer past the write-key check carries the `X-RateLimit-*` headers, unless the limit "
                "could not be checked (its storage down, with `COLLECTOR_RATE_LIMIT_ON_ERROR=open`). A dry run "
                "counts against the rate limit as a real call does."
            ),
            "parameters": [parts.VALIDATE_PARAMETER],
            # Any one of the schemes; or none (`{}`) for a service without write keys.
            "security": ([] if settings.write_keys else [{}]) + [{name: []} for name in parts.SECURITY_SCHEMES],
            "requestBody": {
                "required": True,
                "description": (
                    "UTF-8 JSON (as `text/plain` too, the same JSON text, for `navigator.sendBeacon`), at most "
                    f"{settings.max_body_bytes} bytes; each event at most {settings.max_event_bytes} bytes once "
                    "stored (with the fields the server adds: `eventId` when absent, `pingId`, `receivedAt`, "
                    "`messageheader`, `client`)."
                    + parts.CONTENT_ENCODING_DESCRIPTION
                ),
                # navigator.sendBeacon sends a string as text/plain: the same JSON text.
                "content": {"application/json": body, "text/plain": body},
            },
            "responses": {
                "200": _response(
                    "Dry run (validate=1): a real call would have stored these events; nothing was.",
                    "Validated",
                    parts.EXAMPLE_VALIDATED,
                ),
                "201": _response(
                    "Every event is stored. `value` is a JSON string that itself holds the pingId, "
                    "as the Events API specifies (parse it a second time).",
                    "Created",
                    parts.EXAMPLE_CREATED,
                ),
                **{str(status): _error_response(status, kinds) for status, kinds in errors.items()},
            },
        }
    )


def _response(description: str, schema: str, example: Any = None) -> dict[str, Any]:
    content: dict[str, Any] = {"schema": schema}
    if example is not None:
        content["example"] = example
    return {
        "description": description,
        "headers": {name: {"$ref": f"#/components/headers/{name}"} for name in parts.RATE_LIMIT_HEADERS},
        "content": {"application/json": content},
    }


def _error_response(status: int, kinds: list[ErrorCode]) -> dict[str, Any]:
    whens = "".join(f"\n- `{kind.code}`: {kind.when}" for kind in kinds)
    response = _response(
        f"{HTTP_STATUS_CODES[status]}: nothing of the request was stored. `code` says why:\n{whens}",
        f"Error{status}",
        parts.ERROR_EXAMPLES.get(status),
    )
    if any(kind.retry_after for kind in kinds) or status == 429:
        response["headers"]["Retry-After"] = {"$ref": "#/components/headers/Retry-After"}
    if status == 401:
        response["headers"]["WWW-Authenticate"] = {"$ref": "#/components/headers/WWW-Authenticate"}
    return response


def _error_schemas() -> dict[str, dict[str, Any]]:
    """`Error` narrowed for each status: its reason phrase, its status, its codes."""
    return {
        f"Error{status}": {
            "allOf": [
                {"$ref": "#/components/schemas/Error"},
                {
                    "type": "object",
                    "properties": {
                        "error": {"type": "string", "enum": [HTTP_STATUS_CODES[status]]},
                        "statusCode": {"type": "integer", "enum": [status]},
                        "code": {"type": "string", "enum": [kind.code for kind in kinds]},
                    },
                },
            ]
        }
        for status, kinds in collect_error_codes().items()
    }


def _refine_request_schemas(schemas: dict[str, Any], event_types: frozenset[str]) -> None:
    """Say in JSON Schema what the `Rule` callables check, which apispec cannot read.

    :raises KeyError: if a field named here is no longer in the schemas.
    """
    event = schemas["Event"]["properties"]
    event["eventType"].update(minLength=1, maxLength=128, pattern=parts.EVENT_TYPE_PATTERN)
    if event_types:
        event["eventType"]["enum"] = sorted(event_types)
    event["eventType"]["description"] = "not blank, no control characters; in the allow-list when one is set"
    event["timestamp"].update(
        format="date-time",
        pattern=parts.TIMESTAMP_PATTERN,
        description="RFC 3339 with an offset or `Z` (the client's clock), at most 9 fraction digits; stored as sent",
    )
    header = schemas["EventBatch"]["properties"]["messageheader"]
    # apispec words marshmallow's Length on a Dict as a string's maxLength.
    header.pop("maxLength", None)
    header["maxProperties"] = MAX_HEADER_KEYS
    header["additionalProperties"] = {
        "nullable": True,
        "anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}],
    }
    header["description"] = "scalar values, stored with every event of the request"
