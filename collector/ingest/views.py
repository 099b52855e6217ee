"""The one blueprint: POST /collect/event, read as the data path it is.

request -> parse -> validate -> enrich -> write -> respond. The rate limit is
checked by flask-limiter before this code runs, so a client over its limit
costs no parsing (unless the limit counts events: then the limiter asks
`parsing.event_count`, which parses the body once for both of them).
"""

from __future__ import annotations

import flask

from .. import service
from .enrich import stored_lines
from .facts import new_ping_id, request_facts
from .parsing import request_payload

bp = flask.Blueprint("collect", __name__)


def assign_ping_id() -> None:
    """A request to collect gets its pingId first (an app-wide before_request
    ahead of the limiter's), so that every log line about it carries it."""
    if flask.request.endpoint == "collect.collect_event":
        flask.g.ping_id = new_ping_id()


@bp.post("/collect/event")
def collect_event() -> flask.Response:
    collector = service.current()
    payload = request_payload(flask.request)
    data = collector.validator.validate(payload)
    facts = request_facts(flask.request)
    lines = stored_lines(
        data["messageBody"], data.get("messageheader"), facts, collector.settings.max_event_bytes
    )
    collector.writer.append(lines)
    return created_response(facts.ping_id)


def created_response(ping_id: str) -> flask.Response:
    # The contract's shape: `value` is a JSON string that itself holds the pingId.
    body = b'{"headers": {}, "value": "{\\"pingId\\": \\"' + ping_id.encode() + b'\\"}"}'
    return flask.Response(body, status=201, mimetype="application/json")
