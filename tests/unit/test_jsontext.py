"""jsontext: which parser runs never changes the outcome, at and past every limit.

`loads` takes orjson unless the text may hold an integer beyond 64 bits; then
the standard library. Both must give the same value (same types), the same
stored bytes, or the same refusal, wherever a number stands in the text.
"""

from __future__ import annotations

import math

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector import jsontext
from collector.errors import INVALID_JSON, INVALID_UTF8, NESTING_TOO_DEEP, NUMBER_OUT_OF_RANGE

# Number tokens at and past every limit: 64-bit ints, the 19/20-digit screen,
# the float range and its underflow, the integer digit limit, odd spellings.
NUMBERS = [
    "0", "-0", "1", "-1", "0.0", "-0.0", "1E5", "1e-999", "1e400", "-1e400", "1.7976931348623157e308",
    "1.7976931348623159e308", "5e-324", "123456789012345678.5", "12345678901234567890.5",
    str(2**63 - 1), str(2**63), str(-(2**63)), str(-(2**63) - 1), str(2**64 - 1), str(2**64), str(-(2**64)),
    "9" * 19, "9" * 20, "-" + "9" * 19, "-" + "9" * 20, "1" + "0" * 99, "1" + "0" * 100, "-1" + "0" * 99,
    "-1" + "0" * 100, "9" * 310, "9" * 5000, "1" * 20 + "e2",
]
# Places a number can stand in a body, and strings that trip the screen.
PLACES = [
    '{{"messageBody": [{{"eventType": "a", "properties": {{"k": {n}}}}}]}}',
    '{{"messageBody": [{{"eventType": "a", "properties": {{"k": [1, {n}]}}}}], "messageheader": {{"h": {n}}}}}',
    '{{"messageBody": [{{"eventType": "a", "userId": "x,12345678901234567890", "properties": {{"k": {n}}}}}]}}',
    '{{"messageheader": {{"h":{n}}}, "messageBody": []}}',
    "[{n}]",
    "{n}",
]


def outcome(parse, text: bytes):
    """What a parser makes of `text`: the value and its stored bytes, or the refusal's code."""
    try:
        value = parse(text)
    except jsontext.InvalidJSON as error:
        return ("refused", error.kind.code)
    try:
        stored = jsontext.dumps_line(value)
    except jsontext.InvalidJSON as error:
        return ("not stored", error.kind.code)
    return ("stored", stored, _types(value))


def _types(value):
    if isinstance(value, dict):
        return {key: _types(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_types(item) for item in value]
    return type(value).__name__


def orjson_or_refusal(text: bytes):
    """What orjson alone makes of a text no big integer is in (the fast path's own answer)."""
    return outcome(jsontext.loads, text)


@pytest.mark.parametrize("number", NUMBERS)
@pytest.mark.parametrize("place", PLACES)
def test_both_parsers_agree_on_every_number_anywhere(number, place):
    text = place.format(n=number).encode()
    fast, exact = outcome(jsontext.loads, text), outcome(jsontext.loads_exact, text)
    assert fast == exact


@pytest.mark.parametrize(
    "number, stored",
    [
        ("-0", b"0"),
        ("1E5", b"100000.0"),
        ("1e-999", b"0.0"),
        ("123456789012345678.5", b"1.2345678901234568e+17"),
        (str(2**64), str(2**64).encode()),
        ("-" + "9" * 100, b"-" + b"9" * 100),
    ],
)
def test_what_is_kept_of_a_number_is_what_the_readme_says(number, stored):
    assert jsontext.dumps_line(jsontext.loads(f"[{number}]".encode())) == b"[" + stored + b"]\n"


@pytest.mark.parametrize("number", ["1e400", "-1e400", "1" + "0" * 400, "9" * 5000, "1" + "0" * 100])
def test_numbers_past_the_limits_are_refused_with_a_plain_reason(number):
    with pytest.raises(jsontext.InvalidJSON) as caught:
        jsontext.loads(f'{{"k": {number}, "id": "{"1" * 20}"}}'.encode())
    assert caught.value.kind is NUMBER_OUT_OF_RANGE
    assert "set_int_max_str_digits" not in caught.value.reason
    assert caught.value.reason.startswith("holds ")


def test_an_integer_at_the_digit_limit_reads_back_exactly():
    number = int("7" * jsontext.MAX_INTEGER_DIGITS)
    assert jsontext.loads(f"[{number}]".encode()) == [number]


@pytest.mark.parametrize("depth", [1, 253, 254, 255, 300, 1024, 1025])
@pytest.mark.parametrize("big", [False, True])
def test_one_depth_limit_for_both_writers(depth, big):
    leaf = str(2**64) if big else "1"
    text = ("[" * depth + leaf + "]" * depth).encode()
    fast, exact = outcome(jsontext.loads, text), outcome(jsontext.loads_exact, text)
    if depth <= jsontext.MAX_DEPTH:
        assert fast[0] == "stored"
    else:
        assert fast[1] == NESTING_TOO_DEEP.code
    if depth < 900:  # the standard parser's own recursion limit lies beyond
        assert exact == fast


def test_invalid_utf8_says_where():
    with pytest.raises(jsontext.InvalidJSON) as caught:
        jsontext.loads(b'{"a": "\xff\xfe"}')
    assert (caught.value.kind, caught.value.reason) == (INVALID_UTF8, "is not valid UTF-8: byte 7 is 0xff")


@pytest.mark.parametrize("parse", [jsontext.loads, jsontext.loads_exact])
def test_a_lone_surrogate_escape_is_refused_by_both(parse):
    with pytest.raises(jsontext.InvalidJSON) as caught:
        parse(b'{"a": "\\ud800", "b": 12345678901234567890}')
    assert caught.value.kind is INVALID_JSON
    assert "surrogate" in caught.value.reason


@pytest.mark.parametrize("text", [b"NaN", b'{"a": Infinity}', b'{"a": -Infinity, "b": 12345678901234567890}'])
def test_non_finite_constants_are_refused(text):
    with pytest.raises(jsontext.InvalidJSON) as caught:
        jsontext.loads(text)
    assert caught.value.kind is INVALID_JSON


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_any_value_reads_back_the_same_by_either_parser(value):
    text = jsontext.dumps_line(value)
    fast, exact = outcome(jsontext.loads, text), outcome(jsontext.loads_exact, text)
    assert fast == exact
    assert fast[0] == "stored" and fast[1] == text


def test_the_screen_sends_every_integer_beyond_64_bits_to_the_exact_parser():
    for number in (2**64, -(2**63) - 1, 10**19, 10**30):  # orjson keeps up to 2**64 - 1 and down to -2**63
        for spelling in (f"[{number}]", f'{{"a":\n {number}}}', f"{number}"):
            assert jsontext.may_hold_integers_beyond_64_bits(spelling.encode()), spelling
    assert orjson.loads(str(2**64 - 1)) == 2**64 - 1  # 20 digits, still exact in orjson
    assert not math.isinf(jsontext.loads(b"[1.7976931348623157e308]")[0])
