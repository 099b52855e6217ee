"""The one blueprint: POST /collect/event, read as the data path it is.

request -> parse -> validate -> enrich -> write -> respond. The rate limit is
checked by flask-limiter before this code runs, so a client over its limit
costs no parsing (unless the limit counts events: then the limiter asks
`event_count`, which parses the body once for both of them).
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from typing import Any

import flask
from werkzeug.exceptions import HTTPException

from .enrich import RequestFacts, format_received_at, stored_lines
from .errors import BadRequest, CollectorError, PayloadTooLarge
from .parsing import check_content_type, parse_json
from .schemas import RequestValidator
from .settings import Settings
from .writer import EventWriter

bp = flask.Blueprint("collect", __name__)


@dataclasses.dataclass(frozen=True)
class Collector:
    """What the view needs, built once per app by `create_app`."""

    settings: Settings
    validator: RequestValidator
    writer: EventWriter


def collector() -> Collector:
    return flask.current_app.extensions["collector"]


@bp.post("/collect/event")
def collect_event() -> flask.Response:
    service = collector()
    payload = request_payload(flask.request)
    data = service.validator.validate(payload)
    facts = request_facts(flask.request)
    lines = stored_lines(
        data["messageBody"], data.get("messageheader"), facts, service.settings.max_event_bytes
    )
    service.writer.append(lines)
    return created_response(facts.ping_id)


def request_payload(request: flask.Request) -> Any:
    """The parsed body, read once per request whoever asks first (the limiter or the view).

    :raises: what `read_payload` raises, the same error each time.
    """
    if "payload" not in flask.g:
        try:
            flask.g.payload = (read_payload(request), None)
        except (CollectorError, HTTPException) as error:  # HTTPException: client went away
            flask.g.payload = (None, error)
    payload, error = flask.g.payload
    if error is not None:
        raise error
    return payload


def event_count() -> int:
    """The cost of the current request when the limit counts events (COLLECTOR_RATE_LIMIT_COST=event).

    Never raises: it runs inside the limiter. A body that cannot be read costs
    1, and the view then refuses it with its own 4xx. A batch over
    COLLECTOR_MAX_EVENTS costs that many: it gets 400, not a 429 that would
    hide what is wrong with it.
    """
    try:
        payload = request_payload(flask.request)
    except (CollectorError, HTTPException):
        return 1
    events = payload.get("messageBody") if isinstance(payload, dict) else None
    if not isinstance(events, list):
        return 1
    return min(max(len(events), 1), collector().settings.max_events)


def read_payload(request: flask.Request) -> Any:
    """:raises UnsupportedMediaType, PayloadTooLarge, BadRequest: before any validation."""
    check_content_type(request.mimetype, request.mimetype_params.get("charset"))
    return parse_json(read_body(request))


def read_body(request: flask.Request) -> bytes:
    """The whole body, or PayloadTooLarge; never a body cut short at the limit."""
    limit = request.max_content_length
    too_large = PayloadTooLarge(f"request body is larger than {limit} bytes")
    length = request.content_length
    stream = request.environ["wsgi.input"]
    if length is not None:
        if length > limit:
            raise too_large
        # The server bounds wsgi.input by Content-Length; werkzeug's own
        # stream wrappers would only add their cost.
        try:
            body = stream.read(length)
        except OSError:  # gunicorn's NoMoreData: the client went away
            body = b""
        if len(body) < length:
            raise BadRequest(f"request body ended after {len(body)} of {length} bytes")
        return body
    if request.environ.get("wsgi.input_terminated"):
        # A chunked body: werkzeug would silently stop reading at the limit,
        # so read one byte more than allowed to tell "too large" from "done".
        body = stream.read(limit + 1)
        if len(body) > limit:
            raise too_large
        return body
    return b""  # no length and a server that cannot end the stream: read nothing, as werkzeug


def request_facts(request: flask.Request) -> RequestFacts:
    return RequestFacts(
        ping_id=str(uuid.uuid4()),
        received_at=format_received_at(time.time()),
        client_ip=request.remote_addr,
        user_agent=request.headers.get("User-Agent"),
    )


def created_response(ping_id: str) -> flask.Response:
    # The doc's shape: `value` is a JSON string that itself holds the pingId.
    body = b'{"headers": {}, "value": "{\\"pingId\\": \\"' + ping_id.encode() + b'\\"}"}'
    return flask.Response(body, status=201, mimetype="application/json")
