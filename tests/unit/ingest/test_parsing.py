import json

import pytest

from collector.errors import CollectorError
from collector.ingest.parsing import check_codings, check_content_type, parse_json
from collector.jsontext import may_hold_integers_beyond_64_bits


@pytest.mark.parametrize("charset", [None, "utf-8", "UTF-8", "utf8"])
def test_json_in_utf8_is_accepted(charset):
    check_content_type("application/json", charset)


@pytest.mark.parametrize("charset", [None, "UTF-8", "utf-8"])
def test_text_plain_in_utf8_is_accepted_as_navigator_send_beacon_sends_it(charset):
    check_content_type("text/plain", charset)


@pytest.mark.parametrize(
    "mimetype, charset, code, message",
    [
        ("", None, "unsupported_media_type", "Content-Type must be application/json or text/plain, got none"),
        (
            "text/html",
            None,
            "unsupported_media_type",
            "Content-Type must be application/json or text/plain, got 'text/html'",
        ),
        (
            "application/x-www-form-urlencoded",
            None,
            "unsupported_media_type",
            "Content-Type must be application/json or text/plain, got 'application/x-www-form-urlencoded'",
        ),
        ("application/json", "latin-1", "unsupported_charset", "charset must be utf-8, got 'latin-1'"),
        ("text/plain", "iso-8859-1", "unsupported_charset", "charset must be utf-8, got 'iso-8859-1'"),
    ],
)
def test_anything_else_is_unsupported(mimetype, charset, code, message):
    with pytest.raises(CollectorError) as caught:
        check_content_type(mimetype, charset)
    assert (caught.value.code, caught.value.message) == (code, message)


@pytest.mark.parametrize(
    "transfer_encoding, content_encoding",
    [
        (None, None),
        ("chunked", None),
        ("Chunked ", "identity"),
        (None, ""),
        (None, "IDENTITY"),
        (None, "gzip"),
        ("chunked", " GZIP"),
        (None, "x-gzip"),
    ],
)
def test_plain_gzipped_and_chunked_bodies_are_accepted(transfer_encoding, content_encoding):
    check_codings(transfer_encoding, content_encoding)


@pytest.mark.parametrize(
    "transfer_encoding, content_encoding, code, message",
    [
        (
            "gzip, chunked",
            None,
            "unsupported_transfer_coding",
            "Transfer-Encoding must be chunked or absent, got 'gzip, chunked'",
        ),
        (
            None,
            "br",
            "unsupported_content_encoding",
            "Content-Encoding 'br' is not supported; send the body as is, or gzip",
        ),
        (
            None,
            "gzip, gzip",
            "unsupported_content_encoding",
            "Content-Encoding 'gzip, gzip' is not supported; send the body as is, or gzip",
        ),
        (
            None,
            "deflate",
            "unsupported_content_encoding",
            "Content-Encoding 'deflate' is not supported; send the body as is, or gzip",
        ),
    ],
)
def test_a_coded_body_is_refused_rather_than_stored_as_sent(transfer_encoding, content_encoding, code, message):
    with pytest.raises(CollectorError) as caught:
        check_codings(transfer_encoding, content_encoding)
    assert (caught.value.code, caught.value.message) == (code, message)


def refused(body: bytes) -> tuple[str, str]:
    """The code and message parse_json refuses `body` with."""
    with pytest.raises(CollectorError) as caught:
        parse_json(body)
    return caught.value.code, caught.value.message


# A number token of 23 digits: the body takes the standard library's parser.
EXACT = b'{"id": 12345678901234567890123, "x": '
NOT_JSON = "request body is not valid JSON: "


@pytest.mark.parametrize(
    "body, detail",
    [
        (b"NaN", "unexpected character, expected a JSON value: line 1 column 1 (char 0)"),
        (b'{"a": NaN}', "unexpected character, expected a JSON value: line 1 column 7 (char 6)"),
        (b'{"a": Infinity}', "unexpected character, expected a JSON value: line 1 column 7 (char 6)"),
        (b'{"a": -Infinity}', "no digit after sign: line 1 column 8 (char 7)"),
        (EXACT + b"NaN}", "NaN is not allowed in JSON"),
        (EXACT + b"-Infinity}", "-Infinity is not allowed in JSON"),
    ],
)
def test_non_finite_numbers_are_refused_on_both_parsers(body, detail):
    assert refused(body) == ("invalid_json", NOT_JSON + detail)


@pytest.mark.parametrize("body", [b"[1e400]", EXACT + b"-1e400}"])
def test_numbers_beyond_the_float_range_are_refused_on_both_parsers(body):
    assert refused(body) == (
        "number_out_of_range",
        "request body holds a number beyond the 64-bit float range (±1.7976931348623157e308)",
    )


@pytest.mark.parametrize("prefix", [b"", EXACT], ids=["orjson", "exact"])
def test_deep_nesting_is_refused_on_both_parsers(prefix):
    body = prefix + b"[" * 100_000 + b"]" * 100_000 + (b"}" if prefix else b"")
    assert refused(body) == ("nesting_too_deep", "request body is nested too deeply")


@pytest.mark.parametrize(
    "body, message",
    [
        (b'{"a": "\xff"}', "request body is not valid UTF-8: byte 7 is 0xff"),
        (b'{"a": "\xed\xa0\x80"}', "request body is not valid UTF-8: byte 7 is 0xed"),
        # A digit run inside a string does not take the exact parser.
        (b'{"id": "12345678901234567890123", "a": "\xc3"}', "request body is not valid UTF-8: byte 40 is 0xc3"),
        (EXACT + b'"\xc3"}', "request body is not valid UTF-8: byte 38 is 0xc3"),
    ],
)
def test_invalid_utf8_is_refused_on_both_parsers(body, message):
    assert refused(body) == ("invalid_utf8", message)


@pytest.mark.parametrize(
    "body", [b'{"a": "\\ud800"}', b'{"a": "\\udfff"}', EXACT + b'"\\ud800"}', EXACT + b'{"\\udfff": 1}}']
)
def test_lone_surrogate_escapes_are_refused_on_both_parsers(body):
    code, message = refused(body)
    # The reason after the colon is each parser's own wording.
    assert code == "invalid_json"
    assert message.startswith(NOT_JSON)


def test_an_empty_body_is_refused():
    assert refused(b"") == ("empty_body", "request body is empty; expected a JSON object")


@pytest.mark.parametrize(
    "body, detail",
    [
        (b"{", "unexpected end of data: line 1 column 2 (char 1)"),
        (b"{'a': 1}", "unexpected character, expected a string key: line 1 column 2 (char 1)"),
        (b'{"a": 1} {"b": 2}', "unexpected content after document: line 1 column 10 (char 9)"),
        (b"\xef\xbb\xbf{}", "UTF-8 byte order mark (BOM) is not supported: line 1 column 1 (char 0)"),
        (EXACT + b"1} {}", "Extra data: line 1 column 41 (char 40)"),
    ],
)
def test_malformed_json_is_refused(body, detail):
    assert refused(body) == ("invalid_json", NOT_JSON + detail)


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
