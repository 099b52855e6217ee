"""Every error, whatever raised it, becomes the contract's JSON envelope here.

The Events API's shape is `{"error": <reason phrase>, "message": <text>,
"statusCode": <status>}`, kept word for word; the collector adds a stable
machine-readable `code` (clients switch on it, metrics count by it) and, for a
validation error, `details`. Every code is declared once below, with its
status; docs/api.md's error table is checked against `CODES` by a test. Views
and helpers raise `CollectorError(CODE, message)`; only this module builds
error bodies.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import flask
import orjson
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.http import HTTP_STATUS_CODES

from .request import record

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class ErrorCode:
    """A kind of refusal: its stable code, its HTTP status and when it happens."""

    code: str
    status: int
    when: str
    # Seconds a client should wait before resending (a Retry-After header), if any.
    retry_after: int | None = None


# How long a client should wait before resending after a storage failure.
STORAGE_RETRY_AFTER_SECONDS = 5

EMPTY_BODY = ErrorCode("empty_body", 400, "the request has no body")
INVALID_UTF8 = ErrorCode("invalid_utf8", 400, "the body is not valid UTF-8")
INVALID_JSON = ErrorCode("invalid_json", 400, "the body is not one strict JSON value (`NaN` and `Infinity` included)")
NESTING_TOO_DEEP = ErrorCode("nesting_too_deep", 400, "the body, or an event, is nested more than 254 levels deep")
NUMBER_OUT_OF_RANGE = ErrorCode(
    "number_out_of_range", 400, "a number beyond the 64-bit float range, or an integer of more than 100 digits"
)
BODY_INCOMPLETE = ErrorCode("body_incomplete", 400, "the body ended before its `Content-Length`")
BODY_UNREADABLE = ErrorCode(
    "body_unreadable", 400, "the body's framing is broken: a bad chunk size, or the client left mid-body"
)
UNSUPPORTED_TRANSFER_CODING = ErrorCode(
    "unsupported_transfer_coding", 400, "a `Transfer-Encoding` other than `chunked` (e.g. `gzip, chunked`)"
)
NOT_AN_OBJECT = ErrorCode("not_an_object", 400, "the body is JSON, but not an object")
INVALID_EVENT_TYPE = ErrorCode(
    "invalid_event_type", 400, "an `eventType` is missing, malformed or not in the allow-list"
)
UNKNOWN_FIELD = ErrorCode("unknown_field", 400, "a key the contract does not know, at the top level or in an event")
INVALID_FIELD = ErrorCode("invalid_field", 400, "a field is missing or breaks its rule; `details` names each one")
TRACKING_PLAN_VIOLATION = ErrorCode(
    "tracking_plan_violation",
    400,
    "with `COLLECTOR_TRACKING_PLAN_MODE=refuse`, an event breaks the tracking plan; `details` names each event "
    "and each JSON pointer within it",
)
TOO_MANY_EVENTS = ErrorCode("too_many_events", 400, "`messageBody` holds more than `COLLECTOR_MAX_EVENTS` events")
INVALID_QUERY = ErrorCode(
    "invalid_query",
    400,
    "a query parameter with a value it cannot take: `validate` other than `0` or `1`, "
    "or a bad parameter of the console's API",
)
INVALID_GZIP = ErrorCode(
    "invalid_gzip",
    400,
    "a `Content-Encoding: gzip` body that is not whole gzip (corrupt, cut short, or followed by other bytes)",
)
BAD_REQUEST = ErrorCode("bad_request", 400, "malformed HTTP the server could not read")
INVALID_IDEMPOTENCY_KEY = ErrorCode(
    "invalid_idempotency_key", 400, "an `Idempotency-Key` that is not 1-255 visible ASCII characters"
)
IDEMPOTENCY_KEY_IN_FLIGHT = ErrorCode(
    "idempotency_key_in_flight",
    409,
    "another copy of this `Idempotency-Key` is being stored right now; resend after `Retry-After`",
    1,
)
REPLAY_RUNNING = ErrorCode(
    "replay_running",
    409,
    "the console was asked to replay a dead letter while another replay (`collector deadletter replay`, or the "
    "console's own) runs on the same data directory; nothing was replayed, try again when it has finished",
)
IDEMPOTENCY_KEY_REUSED = ErrorCode(
    "idempotency_key_reused", 422, "this `Idempotency-Key` came before with another body; nothing was stored"
)
IDEMPOTENCY_STATE_BUSY = ErrorCode(
    "idempotency_state_busy",
    503,
    "a request with an `Idempotency-Key` found the idempotency state locked past `COLLECTOR_IDEMPOTENCY_TIMEOUT`; "
    "nothing was kept, resend",
    1,
)
MISSING_WRITE_KEY = ErrorCode(
    "missing_write_key",
    401,
    "write keys are set and the request has none (`Authorization: Bearer`, `X-Collector-Key` or `?writeKey=`)",
)
INVALID_WRITE_KEY = ErrorCode("invalid_write_key", 401, "the request's write key is not one of the collector's keys")
CONSOLE_KEY_REQUIRED = ErrorCode(
    "console_key_required", 401, "the console (`collector console`) was asked without its `COLLECTOR_CONSOLE_KEY`"
)
# Not an error answer: a browser's CORS preflight gets its 204 either way, and
# refused without the allow headers it sends nothing. Coded so that the access
# log and `collector_rejected_requests` show a page on an origin not allowed.
CORS_PREFLIGHT_REFUSED = ErrorCode(
    "cors_preflight_refused",
    204,
    "a CORS preflight from an origin not in `COLLECTOR_CORS_ORIGINS`, or for a method other than `POST`: "
    "answered without the allow headers, so the browser sends nothing (logged and counted, no body)",
)
HOST_NOT_ALLOWED = ErrorCode(
    "host_not_allowed",
    403,
    "the console without a key was asked under a `Host` other than `localhost`, `127.0.0.1` or `[::1]` "
    "(a page rebinding its name to loopback)",
)
BOT_REFUSED = ErrorCode(
    "bot_refused",
    403,
    "`COLLECTOR_BOTS=refuse` and the `User-Agent` is a known bot, or an event says `context.webdriver: true`; "
    "nothing of the request was stored",
)
SUPPRESSED = ErrorCode(
    "suppressed",
    403,
    "an event's `userId` or `anonymousId` is in `COLLECTOR_SUPPRESSED_IDS_FILE`: a person who asked not to be "
    "collected; nothing of the request was stored (nor kept as a dead letter)",
)
NOT_FOUND = ErrorCode("not_found", 404, "another path")
METHOD_NOT_ALLOWED = ErrorCode("method_not_allowed", 405, "another method; `Allow` lists those allowed")
BODY_TOO_LARGE = ErrorCode("body_too_large", 413, "the body is over `COLLECTOR_MAX_BODY_BYTES`")
EVENT_TOO_LARGE = ErrorCode("event_too_large", 413, "one event is over `COLLECTOR_MAX_EVENT_BYTES` as stored")
UNSUPPORTED_MEDIA_TYPE = ErrorCode(
    "unsupported_media_type", 415, "a `Content-Type` other than `application/json` or `text/plain`, or none"
)
UNSUPPORTED_CHARSET = ErrorCode("unsupported_charset", 415, "a charset other than UTF-8")
UNSUPPORTED_CONTENT_ENCODING = ErrorCode(
    "unsupported_content_encoding",
    415,
    "a `Content-Encoding` the collector does not decode (any but `identity` and `gzip`)",
)
RANGE_NOT_SATISFIABLE = ErrorCode(
    "range_not_satisfiable", 416, "a `Range` outside the file asked for (the console's page and its static files)"
)
RATE_LIMITED = ErrorCode("rate_limited", 429, "over the rate limit; `Retry-After` says when to resend")
STORAGE_UNAVAILABLE = ErrorCode(
    "storage_unavailable",
    503,
    "events cannot be stored now (disk full, data directory gone); nothing was kept, resend",
    STORAGE_RETRY_AFTER_SECONDS,
)
LIMIT_STORAGE_UNAVAILABLE = ErrorCode(
    "limit_storage_unavailable",
    503,
    "memcached cannot be reached and `COLLECTOR_RATE_LIMIT_ON_ERROR=closed`; nothing was kept, resend",
    STORAGE_RETRY_AFTER_SECONDS,
)
# Answered by nginx (deploy/nginx-collector.conf), not by the collector itself.
COLLECTOR_UNAVAILABLE = ErrorCode(
    "collector_unavailable",
    503,
    "behind the nginx recipe: the collector did not answer (stopped, restarting, or too slow); resend "
    "(with an `Idempotency-Key`, a resend cannot store twice)",
    STORAGE_RETRY_AFTER_SECONDS,
)
INTERNAL_ERROR = ErrorCode("internal_error", 500, "a bug; logged with its traceback, never shown to the client")

CODES: dict[str, ErrorCode] = {
    kind.code: kind for kind in globals().copy().values() if isinstance(kind, ErrorCode)
}

# werkzeug's own refusals (routing, malformed HTTP) by status.
_HTTP_CODES = {
    400: BAD_REQUEST,
    404: NOT_FOUND,
    405: METHOD_NOT_ALLOWED,
    413: BODY_TOO_LARGE,
    415: UNSUPPORTED_MEDIA_TYPE,
    416: RANGE_NOT_SATISFIABLE,
    429: RATE_LIMITED,
}


class CollectorError(Exception):
    """A request the service refuses, with the code and message the client sees."""

    def __init__(
        self, kind: ErrorCode, message: str, details: Any = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.details = details
        self.headers = headers  # e.g. WWW-Authenticate on a 401

    @property
    def code(self) -> str:
        return self.kind.code

    @property
    def status(self) -> int:
        return self.kind.status


def error_body(kind: ErrorCode, message: str, details: Any = None, status: int | None = None) -> bytes:
    """The contract's envelope, with `code` (and `details` when given)."""
    status = status or kind.status
    body: dict[str, Any] = {
        "error": HTTP_STATUS_CODES.get(status, "Unknown Error"),
        "message": message,
        "statusCode": status,
        "code": kind.code,
    }
    if details is not None:
        body["details"] = details
    return orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS)


def error_response(
    kind: ErrorCode, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> flask.Response:
    headers = dict(headers or {})
    if flask.has_request_context():
        # On the request's record, not only in the body: every error answer is counted (ops.instrument)
        # and logged (the access log) by its code, and those read the record after the answer is made.
        record.current().error_code = kind.code
    if kind.retry_after is not None:
        headers.setdefault("Retry-After", str(kind.retry_after))
    return flask.Response(
        error_body(kind, message, details), status=kind.status, headers=headers, mimetype="application/json"
    )


def _collector_error(error: CollectorError) -> flask.Response:
    return error_response(error.kind, error.message, error.details, error.headers)


def _http_error(error: HTTPException) -> flask.Response:
    status = error.code or 500
    kind = _HTTP_CODES.get(status) or ErrorCode(f"http_{status}", status, "")
    headers = {}
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    if status == 429:
        message = f"rate limit exceeded: {error.description}"
    else:
        message = error.description or HTTP_STATUS_CODES.get(status, "")
    return error_response(kind, message, headers=headers)


def _unexpected_error(error: Exception) -> flask.Response:
    logger.exception("unexpected error handling %s %s", flask.request.method, flask.request.path)
    return error_response(INTERNAL_ERROR, "unexpected server error; see the service log")


def route_paths_as_written(app: flask.Flask) -> None:
    """Make werkzeug route a path as the client wrote it, so that no answer is an HTML redirect.

    With werkzeug's `merge_slashes`, `POST /collect//event` got an HTML 308 to
    `/collect/event`, which Flask sends as it is (a redirect skips the error
    handlers), and nginx passes on too. The contract has one path, and a
    client that sends another has a bug worth seeing: it gets the JSON 404
    `not_found`, as any other unknown path does. Call before any route is
    added: each rule takes the setting when it is added.
    """
    app.url_map.merge_slashes = False


def refuse_leading_slashes() -> None:
    """before_request: `//collect/event` is not `/collect/event` (see `route_paths_as_written`).

    werkzeug matches a path without its leading slashes whatever the map says,
    so `POST //collect/event` was stored, while the layers that compare the
    path as sent (CORS, the replayed 429, the metrics' path label) took it for
    another path. Runs before the write-key check and the rate limit (collector/stack.py).

    :raises NotFound: for a path that starts with two slashes.
    """
    if flask.request.environ.get("PATH_INFO", "").startswith("//"):
        raise NotFound()


def untyped_options(response: flask.Response) -> flask.Response:
    """after_request: Flask's automatic answer to OPTIONS is empty but labelled `text/html`; label it nothing."""
    rule = flask.request.url_rule
    # Flask sets provide_automatic_options on every rule it adds (add_url_rule, with this same ignore):
    # werkzeug's Rule does not declare it.
    if (
        flask.request.method == "OPTIONS"
        and rule is not None
        and rule.provide_automatic_options  # type: ignore[attr-defined]
    ):
        response.headers.pop("Content-Type", None)
    return response


def init_app(app: flask.Flask) -> None:
    """The error handlers: every error answer in the contract's envelope."""
    app.register_error_handler(CollectorError, _collector_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
