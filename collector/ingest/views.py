"""The one blueprint: POST /collect/event, read as the data path it is.

request -> parse -> validate -> suppressed ids -> bots -> plan -> enrich -> write -> respond (a dry run,
`?validate=1`, stops before the write: see `dryrun`). The rate limit is
checked by flask-limiter before this code runs, so a client over its limit
costs no parsing (unless the limit counts events: then the limiter asks
`parsing.event_count`, which parses the body once for both of them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import flask

from .. import ops
from ..request import record
from .dryrun import is_dry_run, valid_response
from .facts import new_ping_id, user_agent
from .keys import current_key_id
from .parsing import request_payload
from .plancheck import flagged

if TYPE_CHECKING:
    from ..idempotency import Idempotency
    from ..store import EventWriter
    from .intake import Accepted, Intake

bp = flask.Blueprint("collect", __name__)
EXTENSION = "collector.ingest"


class DataPath(Protocol):
    """What the views use, handed in by `init_app` (the Collector service object is one)."""

    @property
    def intake(self) -> Intake: ...

    @property
    def writer(self) -> EventWriter: ...

    @property
    def idempotency(self) -> Idempotency: ...


def data_path() -> DataPath:
    """What the views of the app handling the current request use."""
    return flask.current_app.extensions[EXTENSION]


def assign_ping_id() -> None:
    """A request to collect gets its pingId first (an app-wide before_request
    ahead of the limiter's), so that every log line about it carries it."""
    if flask.request.blueprint == bp.name:
        record.current().ping_id = new_ping_id()


@bp.post("/collect/event")
def collect_event() -> flask.Response:
    dry_run = is_dry_run(flask.request)
    payload = request_payload(flask.request)
    accepted = data_path().intake.accept(payload, user_agent(flask.request))
    return store_request(accepted, payload, dry_run, created_response)


def store_request(
    accepted: Accepted,
    payload: Any,
    dry_run: bool,
    answer: Callable[[str], flask.Response],
) -> flask.Response:
    """Accepted events -> enrich -> write -> `answer(pingId)`: the path every ingest route shares.

    `payload` is the request's body as parsed, for its Idempotency-Key's fingerprint.
    """
    path = data_path()
    scope = current_key_id()  # retries and eventIds belong to the write key that sent them
    if not dry_run and (earlier := path.idempotency.replay_or_claim(flask.request, payload, scope)):
        return earlier  # a retry of a request already stored: its very answer, nothing stored again
    events = accepted.events if dry_run else path.idempotency.new_events(accepted.events, scope)
    bots = accepted.bots
    facts = path.intake.facts(flask.request)
    lines = path.intake.lines(events, accepted.header, facts, bots)
    if dry_run:
        flagging = path.intake.plan is not None and path.intake.plan_mode == "flag"
        return valid_response(len(lines), flagged(events) if flagging else None)
    path.writer.append(lines)
    path.idempotency.stored(events, scope)
    ops.count_accepted_events(events)  # and those flagged by the tracking plan
    ops.count_time_flags(lines)
    if bots is not None:
        ops.count_bot_events(bots.categories(events), "stored")
    response = answer(facts.ping_id)
    path.idempotency.completed(response)
    return response


def created_response(ping_id: str) -> flask.Response:
    # The contract's shape: `value` is a JSON string that itself holds the pingId.
    body = b'{"headers": {}, "value": "{\\"pingId\\": \\"' + ping_id.encode() + b'\\"}"}'
    return flask.Response(body, status=201, mimetype="application/json")
