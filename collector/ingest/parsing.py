"""The request's body -> a Python value: reading it, checking its type, parsing it.

The body is read once per request, whoever asks first (the limiter, to count
events, or the view), and refused unless it is plain, strict UTF-8 JSON.

orjson is the fast path: it refuses NaN/Infinity, invalid UTF-8, lone
surrogates and nesting deeper than 1024. It reads integers beyond 64 bits as
floats, though, which would store a different number than was sent; a body that
may hold such an integer (a run of 20 or more digits) takes the standard
library's parser instead, which keeps them exact.
"""

from __future__ import annotations

import json
import re
from typing import Any

import flask
import orjson
from werkzeug.exceptions import HTTPException

from ..errors import (
    BODY_INCOMPLETE,
    BODY_TOO_LARGE,
    EMPTY_BODY,
    INVALID_JSON,
    INVALID_UTF8,
    NESTING_TOO_DEEP,
    UNSUPPORTED_CHARSET,
    UNSUPPORTED_MEDIA_TYPE,
    CollectorError,
)

# A number token of 20 digits (>= 10**19, near 2**64 = 18446744073709551616)
# or a negative one of 19 (near -2**63): beyond these orjson reads floats. A
# number token follows ':', '[' or ',' and JSON whitespace; digits inside a
# string (ids, nanosecond times) are mostly preceded by other characters, so
# they rarely cost the slow path. Erring that way costs time, never a number.
_MAYBE_BEYOND_64_BITS = re.compile(rb"[:\[,][ \t\r\n]*(?:-\d{19}|\d{20})")


# re scans a 40 KB body 6x slower than orjson parses it; translate() and a
# substring search are C loops, so the regex runs only on bodies with 19 digits
# in a row somewhere.
_DIGITS_AS_ZERO = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x2E for byte in range(256))
_NINETEEN_DIGITS = b"0" * 19


def may_hold_integers_beyond_64_bits(body: bytes) -> bool:
    if _NINETEEN_DIGITS not in body.translate(_DIGITS_AS_ZERO):
        return False
    return _MAYBE_BEYOND_64_BITS.search(body) is not None


def request_payload(request: flask.Request) -> Any:
    """The parsed body of `request`, read once whoever asks first (the limiter or the view).

    :raises CollectorError: what `read_payload` raises, the same error each time.
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


def event_count(request: flask.Request) -> int | None:
    """How many events the request carries, or None if its body cannot be read or is not a batch.

    Never raises: the limiter asks it when the limit counts events, and the view
    then refuses a bad body with its own 4xx.
    """
    try:
        payload = request_payload(request)
    except (CollectorError, HTTPException):
        return None
    events = payload.get("messageBody") if isinstance(payload, dict) else None
    return len(events) if isinstance(events, list) else None


def read_payload(request: flask.Request) -> Any:
    """:raises CollectorError: a 415, 413 or 400, before any validation."""
    check_content_type(request.mimetype, request.mimetype_params.get("charset"))
    return parse_json(read_body(request))


def read_body(request: flask.Request) -> bytes:
    """The whole body, or a 413; never a body cut short at the limit."""
    limit = request.max_content_length
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
        body = stream.read(limit + 1)
        if len(body) > limit:
            raise too_large
        return body
    return b""  # no length and a server that cannot end the stream: read nothing, as werkzeug


def check_content_type(mimetype: str, charset: str | None) -> None:
    """:raises CollectorError: a 415 unless the body is declared as UTF-8 JSON."""
    if mimetype != "application/json":
        raise CollectorError(
            UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/json, got " + (repr(mimetype) if mimetype else "none"),
        )
    if charset is not None and charset.lower().replace("-", "") != "utf8":
        raise CollectorError(UNSUPPORTED_CHARSET, f"charset must be utf-8, got {charset!r}")


def parse_json(body: bytes) -> Any:
    """:raises CollectorError: a 400 for anything that is not one strict JSON value."""
    if not body:
        raise CollectorError(EMPTY_BODY, "request body is empty; expected a JSON object")
    if may_hold_integers_beyond_64_bits(body):
        return _parse_exact(body)
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise _refusal(body, error) from None


def _refusal(body: bytes, error: orjson.JSONDecodeError) -> CollectorError:
    """orjson's error, with the code of what is wrong: the encoding, the depth or the JSON."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as bad:
        return CollectorError(
            INVALID_UTF8, f"request body is not valid UTF-8: byte {bad.start} is {body[bad.start]:#04x}"
        )
    if "recursion limit" in str(error):
        return CollectorError(NESTING_TOO_DEEP, "request body is nested too deeply")
    return CollectorError(INVALID_JSON, f"request body is not valid JSON: {error}")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in JSON")


def _parse_exact(body: bytes) -> Any:
    try:
        text = body.decode("utf-8")
        value = json.loads(text, parse_constant=_refuse_constant)
        # The standard parser accepts lone surrogates ("\ud800"); they cannot be
        # stored as UTF-8, so refuse them here as orjson would.
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeError:
        raise CollectorError(INVALID_UTF8, "request body is not valid UTF-8 text") from None
    except RecursionError:
        raise CollectorError(NESTING_TOO_DEEP, "request body is nested too deeply") from None
    except ValueError as error:
        raise CollectorError(INVALID_JSON, f"request body is not valid JSON: {error}") from None
    return value
