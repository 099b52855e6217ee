"""The one blueprint: POST /collect/event, read as the data path it is.

request -> parse -> validate -> enrich -> write -> respond. The rate limit is
checked by flask-limiter before this code runs, so a client over its limit
costs no parsing.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime, timezone
from typing import Any

import flask
from werkzeug.exceptions import RequestEntityTooLarge

from .enrich import RequestFacts, build_records, encode_records, format_received_at
from .errors import PayloadTooLarge
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
    payload = read_payload(flask.request)
    data = service.validator.validate(payload)
    facts = request_facts(flask.request)
    records = build_records(data["messageBody"], data.get("messageheader"), facts)
    lines = encode_records(records, service.settings.max_event_bytes)
    service.writer.append(lines)
    return created_response(facts.ping_id)


def read_payload(request: flask.Request) -> Any:
    """:raises UnsupportedMediaType, PayloadTooLarge, BadRequest: before any validation."""
    check_content_type(request.mimetype, request.mimetype_params.get("charset"))
    return parse_json(read_body(request))


def read_body(request: flask.Request) -> bytes:
    """The whole body, or PayloadTooLarge; never a body cut short at the limit."""
    limit = request.max_content_length
    too_large = PayloadTooLarge(f"request body is larger than {limit} bytes")
    if request.content_length is None and request.environ.get("wsgi.input_terminated"):
        # A chunked body: werkzeug would silently stop reading at the limit,
        # so read one byte more than allowed to tell "too large" from "done".
        body = request.environ["wsgi.input"].read(limit + 1)
        if len(body) > limit:
            raise too_large
        return body
    try:
        return request.get_data(cache=False)
    except RequestEntityTooLarge:
        raise too_large from None


def request_facts(request: flask.Request) -> RequestFacts:
    return RequestFacts(
        ping_id=str(uuid.uuid4()),
        received_at=format_received_at(datetime.now(timezone.utc)),
        client_ip=request.remote_addr,
        user_agent=request.headers.get("User-Agent"),
    )


def created_response(ping_id: str) -> flask.Response:
    # The doc's shape: `value` is a JSON string that itself holds the pingId.
    body = b'{"headers": {}, "value": "{\\"pingId\\": \\"' + ping_id.encode() + b'\\"}"}'
    return flask.Response(body, status=201, mimetype="application/json")
