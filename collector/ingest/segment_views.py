"""The Segment-compatible routes: POST /v1/batch and /v1/<call>, on the collect blueprint.

On the same blueprint as /collect/event, so under the same rate limit (one
budget per client for both), write keys and pingIds. request -> parse ->
map (segment.py) and validate (the collector's own validator, on the core of
each message; both through the intake) -> suppressed ids, bots and plan (as
the view's) -> the shared enrich -> write path (views.store_request) ->
`200 {"success": true}`, the answer Segment's SDKs expect.
"""

from __future__ import annotations

import flask

from ..request import record
from .dryrun import is_dry_run
from .facts import user_agent
from .parsing import request_payload
from .segment import BATCH_PATHS, CALLS, SHORT_CALLS
from .views import bp, data_path, store_request

SUCCESS = b'{"success": true}'


@bp.post(BATCH_PATHS[0])
@bp.post(BATCH_PATHS[1])
def segment_batch() -> flask.Response:
    return segment_request(None)


@bp.post("/v1/<any(" + ", ".join((*CALLS, *SHORT_CALLS)) + "):call>")
def segment_call(call: str) -> flask.Response:
    return segment_request(SHORT_CALLS.get(call, call))


def segment_request(call: str | None) -> flask.Response:
    dry_run = is_dry_run(flask.request)
    payload = request_payload(flask.request)
    raw_body = record.current().raw_body
    assert raw_body is not None, "request_payload has read the body (or raised)"
    accepted = data_path().intake.accept_segment(payload, call, raw_body, user_agent(flask.request))
    return store_request(accepted, payload, dry_run, success_response)


def success_response(_ping_id: str) -> flask.Response:
    return flask.Response(SUCCESS, status=200, mimetype="application/json")
