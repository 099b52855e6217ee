"""The Segment-compatible routes: POST /v1/batch and /v1/<call>, on the collect blueprint.

On the same blueprint as /collect/event, so under the same rate limit (one
budget per client for both), write keys and pingIds. request -> parse ->
map (segment.py) -> validate (the collector's own validator, on the core of
each message) -> the shared enrich -> write path (views.store_request) ->
`200 {"success": true}`, the answer Segment's SDKs expect.
"""

from __future__ import annotations

import flask

from .. import service
from ..errors import BODY_TOO_LARGE, CollectorError
from ..request import record
from .dryrun import is_dry_run
from .parsing import request_payload
from .segment import BATCH_PATHS, CALLS, MAX_BATCH_BYTES, SHORT_CALLS, map_request, segment_error
from .views import bp, store_request

SUCCESS = b'{"success": true}'


@bp.post(BATCH_PATHS[0])
@bp.post(BATCH_PATHS[1])
def segment_batch() -> flask.Response:
    return segment_request(None)


@bp.post("/v1/<any(" + ", ".join((*CALLS, *SHORT_CALLS)) + "):call>")
def segment_call(call: str) -> flask.Response:
    return segment_request(SHORT_CALLS.get(call, call))


def segment_request(call: str | None) -> flask.Response:
    collector = service.current()
    dry_run = is_dry_run(flask.request)
    payload = request_payload(flask.request)
    check_batch_size(record.current().raw_body, collector.settings.max_body_bytes)
    mapped = map_request(payload, call)
    try:
        collector.validator.validate(mapped.core)
    except CollectorError as error:
        raise segment_error(error, single=call is not None) from None
    return store_request(mapped.events, mapped.core.get("messageheader"), payload, dry_run, success_response)


def check_batch_size(body: bytes, max_body_bytes: int) -> None:
    """Segment's 500 KB per request (of JSON, after gzip is undone), or the collector's own limit when lower.

    :raises CollectorError: 413 `body_too_large`, as the collector's own limit answers.
    """
    limit = min(MAX_BATCH_BYTES, max_body_bytes)
    if len(body) > limit:
        raise CollectorError(BODY_TOO_LARGE, f"request body is larger than {limit} bytes")


def success_response(_ping_id: str) -> flask.Response:
    return flask.Response(SUCCESS, status=200, mimetype="application/json")
