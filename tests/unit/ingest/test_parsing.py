import json

import pytest

from collector.errors import CollectorError
from collector.ingest.parsing import check_content_type, may_hold_integers_beyond_64_bits, parse_json


@pytest.mark.parametrize("charset", [None, "utf-8", "UTF-8", "utf8"])
def test_json_in_utf8_is_accepted(charset):
    check_content_type("application/json", charset)


@pytest.mark.parametrize(
    "mimetype, charset, message",
    [
        ("", None, "Content-Type must be application/json, got none"),
        ("text/plain", None, "Content-Type must be application/json, got 'text/plain'"),
        ("application/x-www-form-urlencoded", None, "got 'application/x-www-form-urlencoded'"),
        ("application/json", "latin-1", "charset must be utf-8, got 'latin-1'"),
    ],
)
def test_anything_else_is_unsupported(mimetype, charset, message):
    with pytest.raises(CollectorError) as caught:
        check_content_type(mimetype, charset)
    assert message in caught.value.message


def refused(body: bytes) -> str:
    with pytest.raises(CollectorError) as caught:
        parse_json(body)
    return caught.value.message


@pytest.mark.parametrize(
    "body",
    [b"NaN", b'{"a": NaN}', b'{"a": Infinity}', b'{"a": -Infinity}', b"[1e400]"],
)
def test_non_finite_numbers_are_refused(body):
    assert refused(body).startswith("request body is not valid JSON")


@pytest.mark.parametrize("prefix", [b"", b'{"id": "12345678901234567890123", "x": '])
def test_deep_nesting_is_refused_on_both_parsers(prefix):
    # The second body has a long digit run, which takes the exact parser.
    body = prefix + b"[" * 100_000 + b"]" * 100_000 + (b"}" if prefix else b"")
    message = refused(body)
    assert "nested too deeply" in message or "depth limit" in message


@pytest.mark.parametrize(
    "body",
    [b'{"a": "\xff"}', b'{"a": "\xed\xa0\x80"}', b'{"id": "12345678901234567890123", "a": "\xc3"}'],
)
def test_invalid_utf8_is_refused(body):
    message = refused(body)
    assert "UTF-8" in message or "not valid JSON" in message


@pytest.mark.parametrize(
    "body", [b'{"a": "\\ud800"}', b'{"id": 123456789012345678901234, "a": "\\udfff"}']
)
def test_lone_surrogate_escapes_are_refused(body):
    refused(body)


@pytest.mark.parametrize("body", [b"", b"{", b"{'a': 1}", b'{"a": 1} {"b": 2}', b"\xef\xbb\xbf{}"])
def test_malformed_json_is_refused(body):
    refused(body)


def test_integers_beyond_64_bits_are_kept_exact():
    body = b'{"big": 123456789012345678901234567890, "neg": -98765432109876543210, "f": 0.1}'
    assert parse_json(body) == {"big": 123456789012345678901234567890, "neg": -98765432109876543210, "f": 0.1}


def test_unicode_line_separators_are_ordinary_characters():
    assert parse_json('{"a": "x\u2028y\u2029z"}'.encode()) == {"a": "x\u2028y\u2029z"}


def test_both_parsers_agree_on_ordinary_json():
    body = json.dumps({"n": [1, -2, 3.5, 1e-7, True, None], "s": "é\u2028", "d": {"k": {}}}).encode()
    exact = body[:-1] + b', "id": "12345678901234567890"}'
    assert parse_json(body) == json.loads(body)
    assert parse_json(exact) == json.loads(exact)


@pytest.mark.parametrize(
    "literal",
    [b"-9223372036854775809", b"-9999999999999999999", b"18446744073709551616", b"99999999999999999999999"],
)
@pytest.mark.parametrize("before", [b'{"n": ', b'{"n":[1,\n\t', b'{"n":[\r\n'])
def test_every_integer_orjson_would_turn_into_a_float_is_kept_exact(literal, before):
    body = before + literal + (b"]}" if b"[" in before else b"}")
    value = parse_json(body)["n"]
    assert (value[-1] if isinstance(value, list) else value) == int(literal)


@pytest.mark.parametrize("literal", [b"9999999999999999999", b"-999999999999999999", b"-1"])
def test_integers_well_within_64_bits_take_the_fast_parser(literal):
    assert not may_hold_integers_beyond_64_bits(b'{"n": ' + literal + b"}")
    assert parse_json(b'{"n": ' + literal + b"}")["n"] == int(literal)


@pytest.mark.parametrize("literal", [b"-9223372036854775808", b"18446744073709551615", b"10000000000000000000"])
def test_integers_at_the_edge_of_64_bits_are_exact_whichever_parser_reads_them(literal):
    assert parse_json(b'{"n": ' + literal + b"}")["n"] == int(literal)


def test_long_digit_runs_inside_strings_do_not_cost_the_slow_parser():
    body = b'{"eventId": "17956690001234567890123", "t": "1795669000123456789012ns"}'
    assert not may_hold_integers_beyond_64_bits(body)
    assert parse_json(body)["eventId"] == "17956690001234567890123"
