"""JSON text <-> values, the same for request bodies and stored lines: strict, exact, bounded.

orjson does the work: it refuses NaN/Infinity, invalid UTF-8, lone surrogates
and nesting deeper than 1024, and reads and writes fast. It reads integers
beyond 64 bits as floats, though, which would store a different number than
was sent, and it cannot write them. A text that may hold such an integer (a
run of 19 or 20 digits) is read by the standard library instead, with the same
rules, and a value holding one is written by it. Which of the two runs must
never change the outcome (tests/unit/test_jsontext.py proves it over numbers
at and past every limit): the same value, the same bytes, or the same refusal.

What is kept (docs/stored-lines-and-files.md's "Stored lines" says the same to users):
- integers exactly, up to MAX_INTEGER_DIGITS digits; longer ones are refused;
- other numbers as the nearest 64-bit float, written in the shortest form
  that reads back the same (`1E5` -> `100000.0`, `1e-999` -> `0.0`); a number
  beyond the float range (`1e400`) is refused, never stored as `null`;
- containers nested up to MAX_DEPTH levels (orjson's writing limit).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import orjson

from .errors import INVALID_JSON, INVALID_UTF8, NESTING_TOO_DEEP, NUMBER_OUT_OF_RANGE, ErrorCode

# 128-bit ids have 39 digits, 256-bit ones 78. Parsing a decimal integer costs
# time quadratic in its length; this bounds it far below Python's own
# 4,300-digit guard, whose message would tell a client to call
# sys.set_int_max_str_digits().
MAX_INTEGER_DIGITS = 100
# Containers inside containers: orjson writes at most 254 levels.
MAX_DEPTH = 254

# A number token of 20 digits (>= 10**19, near 2**64 = 18446744073709551616)
# or a negative one of 19 (near -2**63): beyond these orjson reads floats. A
# number token starts the text or follows ':', '[' or ',' and JSON whitespace;
# digits inside a string (ids, nanosecond times) are mostly preceded by other
# characters, so they rarely cost the slow path. Erring that way costs time,
# never a number.
_MAYBE_BEYOND_64_BITS = re.compile(rb"(?:^|[:\[,])[ \t\r\n]*(?:-\d{19}|\d{20})")
# re scans a 40 KB body 6x slower than orjson parses it; translate() and a
# substring search are C loops, so the regex runs only on texts with 19 digits
# in a row somewhere.
_DIGITS_AS_ZERO = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x2E for byte in range(256))
_NINETEEN_DIGITS = b"0" * 19


class InvalidJSON(ValueError):
    """A text that is not strict, storable JSON: `kind` says which rule it breaks."""

    def __init__(self, kind: ErrorCode, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


def may_hold_integers_beyond_64_bits(data: bytes) -> bool:
    if _NINETEEN_DIGITS not in data.translate(_DIGITS_AS_ZERO):
        return False
    return _MAYBE_BEYOND_64_BITS.search(data) is not None


def loads(data: bytes) -> Any:
    """One strict JSON value from UTF-8 bytes.

    :raises InvalidJSON: for anything else; `reason` completes "... is not valid JSON"-style sentences.
    """
    if may_hold_integers_beyond_64_bits(data):
        return loads_exact(data)
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise _orjson_refusal(data, error) from None


def loads_exact(data: bytes) -> Any:
    """`loads` by the standard library, which keeps integers of any size exact."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as bad:
        raise _not_utf8(data, bad) from None
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_int=_integer, parse_float=_float)
    except RecursionError:
        raise InvalidJSON(NESTING_TOO_DEEP, "is nested too deeply") from None
    except InvalidJSON:
        raise
    except ValueError as error:
        raise InvalidJSON(INVALID_JSON, f"is not valid JSON: {error}") from None
    if "\\u" in text and _holds_lone_surrogate(value):
        raise InvalidJSON(INVALID_JSON, _LONE_SURROGATE)
    return value


def dumps_line(record: Any) -> bytes:
    """One JSON value as a line: UTF-8, compact, ending in exactly one newline.

    JSON strings escape every control character, so the only newline in the
    line is the last byte: a line can never be split or merged by a reader.
    :raises InvalidJSON: nested deeper than MAX_DEPTH.
    """
    try:
        return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)
    except orjson.JSONEncodeError as error:
        if "Recursion" in str(error):
            raise InvalidJSON(NESTING_TOO_DEEP, "is nested too deeply to store") from None
    # Integers beyond 64 bits: the standard library writes them exactly, with
    # orjson's own depth limit applied first, so both writers refuse alike.
    if _deeper_than(record, MAX_DEPTH):
        raise InvalidJSON(NESTING_TOO_DEEP, "is nested too deeply to store")
    text = json.dumps(record, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.encode("utf-8") + b"\n"


_LONE_SURROGATE = "is not valid JSON: a \\u escape is half of a surrogate pair, which is not text"


def _orjson_refusal(data: bytes, error: orjson.JSONDecodeError) -> InvalidJSON:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as bad:
        return _not_utf8(data, bad)
    reason = str(error)
    if reason.startswith("depth limit exceeded") or "recursion" in reason:
        return InvalidJSON(NESTING_TOO_DEEP, "is nested too deeply")
    if "infinity when parsed as double" in reason:
        return _out_of_range_float()
    if "surrogate" in reason:
        return InvalidJSON(INVALID_JSON, _LONE_SURROGATE)
    return InvalidJSON(INVALID_JSON, f"is not valid JSON: {reason}")


def _not_utf8(data: bytes, bad: UnicodeDecodeError) -> InvalidJSON:
    return InvalidJSON(INVALID_UTF8, f"is not valid UTF-8: byte {bad.start} is {data[bad.start]:#04x}")


def _out_of_range_float() -> InvalidJSON:
    return InvalidJSON(
        NUMBER_OUT_OF_RANGE, f"holds a number beyond the 64-bit float range (±{_FLOAT_MAX})"
    )


_FLOAT_MAX = "1.7976931348623157e308"


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in JSON")


def _integer(digits: str) -> int:
    count = len(digits) - digits.startswith("-")
    if count > MAX_INTEGER_DIGITS:
        raise InvalidJSON(
            NUMBER_OUT_OF_RANGE,
            f"holds an integer of {count} digits; at most {MAX_INTEGER_DIGITS} are stored exactly",
        )
    return int(digits)


def _float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise _out_of_range_float()
    return value


def _holds_lone_surrogate(value: Any) -> bool:
    """Whether a string (key or value) anywhere in `value` holds a lone surrogate.

    The standard parser accepts "\\ud800"; such a string cannot be UTF-8, so it
    is refused as orjson refuses it.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether containers nest more than `limit` levels deep in `value`."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False
