"""The request's body -> a Python value: reading it, checking its type, parsing it.

The body is read once per request, whoever asks first (the limiter, to count
events, or the view), and refused unless it is plain, strict UTF-8 JSON (see
`collector.jsontext` for what that means for numbers and nesting), sent as
application/json or, as `navigator.sendBeacon` sends a string, text/plain.
"""

from __future__ import annotations

from typing import Any

import flask
from werkzeug.exceptions import HTTPException

from .. import jsontext
from ..errors import (
    BODY_INCOMPLETE,
    BODY_TOO_LARGE,
    BODY_UNREADABLE,
    EMPTY_BODY,
    UNSUPPORTED_CHARSET,
    UNSUPPORTED_CONTENT_ENCODING,
    UNSUPPORTED_MEDIA_TYPE,
    UNSUPPORTED_TRANSFER_CODING,
    CollectorError,
)
from ..request import record
from .encoding import DECODED, coding_of, decode_body
from .segment import BATCH_PATHS


def request_payload(request: flask.Request) -> Any:
    """The parsed body of `request`, read once whoever asks first (the limiter or the view).

    :raises CollectorError: what `read_payload` raises, the same error each time.
    """
    held = record.of(request.environ)
    if held.payload is None:
        try:
            held.payload = (read_payload(request), None)
        except (CollectorError, HTTPException) as refused:  # HTTPException: client went away
            held.payload = (None, refused)
    payload, error = held.payload
    if error is not None:
        raise error
    return payload


def event_count(request: flask.Request) -> int | None:
    """How many events the request carries, or None if its body cannot be read or is not a batch.

    Never raises: the limiter asks it when the limit counts events, and the view
    then refuses a bad body with its own 4xx.
    """
    try:
        payload = request_payload(request)
    except (CollectorError, HTTPException):
        return None
    if not isinstance(payload, dict):
        return None
    if request.path.startswith("/v1/"):  # Segment's API: a batch, or one call
        events = payload.get("batch") if request.path in BATCH_PATHS else [payload]
    else:
        events = payload.get("messageBody")
    return len(events) if isinstance(events, list) else None


def read_payload(request: flask.Request) -> Any:
    """:raises CollectorError: a 415, 413 or 400, before any validation."""
    check_content_type(request.mimetype, request.mimetype_params.get("charset"))
    content_encoding = request.headers.get("Content-Encoding")
    check_codings(request.headers.get("Transfer-Encoding"), content_encoding)
    # The limit bounds the body as sent (read_body) and, for gzip, as inflated.
    held = record.of(request.environ)
    held.raw_body = read_body(request)  # kept for a dead letter, should the request be refused
    held.raw_body = decode_body(held.raw_body, content_encoding, body_limit(request))
    return parse_json(held.raw_body)


def body_limit(request: flask.Request) -> int:
    """The most bytes a body may have: MAX_CONTENT_LENGTH, which flask types as optional."""
    limit = request.max_content_length
    assert limit is not None, "collector.ingest sets MAX_CONTENT_LENGTH (intake.max_body_bytes) on every app"
    return limit


def read_body(request: flask.Request) -> bytes:
    """The whole body, or a 413; never a body cut short at the limit."""
    limit = body_limit(request)
    too_large = CollectorError(BODY_TOO_LARGE, f"request body is larger than {limit} bytes")
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
            raise CollectorError(BODY_INCOMPLETE, f"request body ended after {len(body)} of {length} bytes")
        return body
    if request.environ.get("wsgi.input_terminated"):
        # A chunked body: werkzeug would silently stop reading at the limit,
        # so read one byte more than allowed to tell "too large" from "done".
        try:
            body = stream.read(limit + 1)
        except Exception as error:  # noqa: BLE001
            # The server's own exception for a bad chunk or a client gone
            # mid-body (gunicorn: InvalidChunkSize, NoMoreData, ...); PEP 3333
            # names none, and any of them is the client's fault, not a 500.
            raise CollectorError(
                BODY_UNREADABLE, f"request body could not be read: {type(error).__name__}"
            ) from None
        if len(body) > limit:
            raise too_large
        return body
    return b""  # no length and a server that cannot end the stream: read nothing, as werkzeug


def check_codings(transfer_encoding: str | None, content_encoding: str | None) -> None:
    """:raises CollectorError: a body in a coding the service does not decode.

    Storing such a body as if it were plain would store something else than was
    sent. (A transfer coding the client chose is its fault: 400, not the 501 of
    RFC 9112, so that operators' 5xx alerts stay about the service.)
    """
    if transfer_encoding is not None and transfer_encoding.strip().lower() != "chunked":
        raise CollectorError(
            UNSUPPORTED_TRANSFER_CODING, f"Transfer-Encoding must be chunked or absent, got {transfer_encoding!r}"
        )
    if content_encoding is not None and coding_of(content_encoding) not in DECODED:
        raise CollectorError(
            UNSUPPORTED_CONTENT_ENCODING,
            f"Content-Encoding {content_encoding!r} is not supported; send the body as is, or gzip",
        )


# `navigator.sendBeacon` sends a string as text/plain;charset=UTF-8 and cannot
# set a header; the body is the same JSON, parsed as strictly.
ACCEPTED_MIMETYPES = ("application/json", "text/plain")


def check_content_type(mimetype: str, charset: str | None) -> None:
    """:raises CollectorError: a 415 unless the body is declared as UTF-8 JSON (or UTF-8 text/plain)."""
    if mimetype not in ACCEPTED_MIMETYPES:
        raise CollectorError(
            UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/json or text/plain, got " + (repr(mimetype) if mimetype else "none"),
        )
    if charset is not None and charset.lower().replace("-", "") != "utf8":
        raise CollectorError(UNSUPPORTED_CHARSET, f"charset must be utf-8, got {charset!r}")


def parse_json(body: bytes) -> Any:
    """:raises CollectorError: a 400 for anything that is not one strict JSON value."""
    if not body:
        raise CollectorError(EMPTY_BODY, "request body is empty; expected a JSON object")
    try:
        return jsontext.loads(body)
    except jsontext.InvalidJSON as error:
        raise CollectorError(error.kind, f"request body {error.reason}") from None
