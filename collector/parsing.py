"""Request body -> Python value, refusing anything that is not plain, strict JSON.

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

import orjson

from .errors import BadRequest, UnsupportedMediaType

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


def check_content_type(mimetype: str, charset: str | None) -> None:
    """:raises UnsupportedMediaType: unless the body is declared as UTF-8 JSON."""
    if mimetype != "application/json":
        raise UnsupportedMediaType(
            "Content-Type must be application/json, got " + (repr(mimetype) if mimetype else "none")
        )
    if charset is not None and charset.lower().replace("-", "") != "utf8":
        raise UnsupportedMediaType(f"charset must be utf-8, got {charset!r}")


def parse_json(body: bytes) -> Any:
    """:raises BadRequest: for anything that is not one strict JSON value."""
    if not body:
        raise BadRequest("request body is empty; expected a JSON object")
    if may_hold_integers_beyond_64_bits(body):
        return _parse_exact(body)
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise BadRequest(f"request body is not valid JSON: {error}") from None


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
        raise BadRequest("request body is not valid UTF-8 text") from None
    except RecursionError:
        raise BadRequest("request body is nested too deeply") from None
    except ValueError as error:
        raise BadRequest(f"request body is not valid JSON: {error}") from None
    return value
