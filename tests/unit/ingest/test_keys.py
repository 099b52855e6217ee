"""Write keys: where a request carries one, how it is checked, what is kept of it."""

from __future__ import annotations

import base64
import hashlib

import pytest

from collector.errors import CollectorError
from collector.ingest.keys import WriteKeys, key_id, presented_key, query_key
from collector.request import record

KEY = "k3y-0123456789abcdef"
OTHER = "other+key/0123456789"


def environ(**values) -> dict:
    return dict(values)


@pytest.mark.parametrize(
    "request_environ, presented",
    [
        ({"HTTP_AUTHORIZATION": f"Bearer {KEY}"}, KEY),
        ({"HTTP_AUTHORIZATION": f"bearer   {KEY} "}, KEY),
        ({"HTTP_X_COLLECTOR_KEY": KEY}, KEY),
        ({"QUERY_STRING": f"writeKey={KEY}"}, KEY),
        ({"QUERY_STRING": f"a=1&writeKey={KEY}&b=2"}, KEY),
        ({"QUERY_STRING": "writeKey=other%2Bkey%2F0123456789"}, OTHER),
        ({"QUERY_STRING": f"writeKey={OTHER}"}, OTHER),  # a `+` is a `+`, not a space
        # The first place that holds a key decides.
        ({"HTTP_AUTHORIZATION": f"Bearer {KEY}", "HTTP_X_COLLECTOR_KEY": OTHER}, KEY),
        ({"HTTP_X_COLLECTOR_KEY": KEY, "QUERY_STRING": f"writeKey={OTHER}"}, KEY),
        # HTTP Basic with the key as the user name, as Segment's SDKs send it to the /v1/ routes.
        ({"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{KEY}:".encode()).decode(), "PATH_INFO": "/v1/b"}, KEY),
        (
            {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{KEY}:x".encode()).decode(), "PATH_INFO": "/v1/batch"},
            KEY,
        ),
        # Not a key: another scheme, an empty value, another parameter name, Basic that is not base64,
        # Basic anywhere but the Segment API.
        ({"HTTP_AUTHORIZATION": f"Basic {KEY}", "PATH_INFO": "/v1/batch"}, None),
        ({"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(b":password").decode(), "PATH_INFO": "/v1/batch"}, None),
        (
            {
                "HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{KEY}:".encode()).decode(),
                "PATH_INFO": "/collect/event",
            },
            None,
        ),
        ({"HTTP_AUTHORIZATION": "Bearer "}, None),
        ({"HTTP_X_COLLECTOR_KEY": "  "}, None),
        ({"QUERY_STRING": "writeKey="}, None),
        ({"QUERY_STRING": f"writekey={KEY}"}, None),
        ({"QUERY_STRING": f"write%4Bey={KEY}"}, None),
        ({"QUERY_STRING": f"xwriteKey={KEY}"}, None),
        ({}, None),
    ],
)
def test_where_a_key_is_found(request_environ, presented):
    assert presented_key(request_environ) == presented


def test_a_key_id_is_the_first_8_hex_digits_of_its_sha256():
    assert key_id(KEY) == hashlib.sha256(KEY.encode()).hexdigest()[:8]


def test_a_valid_key_is_identified_and_left_in_the_environ():
    keys = WriteKeys({KEY, OTHER})
    request = environ(HTTP_X_COLLECTOR_KEY=KEY)
    assert keys.check(request) == key_id(KEY)
    assert record.of(request).key_id == key_id(KEY)
    assert keys.id_of(request) == key_id(KEY)
    assert keys.id_of(environ(QUERY_STRING=f"writeKey={OTHER}")) == key_id(OTHER)


def test_a_request_without_a_key_is_refused_with_a_challenge():
    with pytest.raises(CollectorError) as caught:
        WriteKeys({KEY}).check(environ())
    error = caught.value
    assert (error.status, error.code) == (401, "missing_write_key")
    assert error.headers == {"WWW-Authenticate": 'Bearer realm="collector"'}
    assert error.message == (
        "a write key is required: send it as 'Authorization: Bearer <key>', 'X-Collector-Key: <key>' "
        "or ?writeKey=<key>"
    )


@pytest.mark.parametrize("presented", [KEY[:-1], KEY + "x", KEY.upper(), "x" * 300, "é" * 20])
def test_a_wrong_key_is_refused_and_never_echoed(presented):
    request = environ(HTTP_AUTHORIZATION=f"Bearer {presented}")
    with pytest.raises(CollectorError) as caught:
        WriteKeys({KEY}).check(request)
    error = caught.value
    assert (error.status, error.code) == (401, "invalid_write_key")
    assert error.headers == {"WWW-Authenticate": 'Bearer realm="collector", error="invalid_token"'}
    assert presented not in error.message and KEY not in error.message
    assert record.of(request).key_id is None
    assert WriteKeys({KEY}).id_of(request) is None


def test_no_keys_means_no_key_is_needed():
    assert not WriteKeys(frozenset())
    assert WriteKeys(frozenset()).id_of(environ(HTTP_X_COLLECTOR_KEY=KEY)) is None


def test_the_keys_themselves_are_not_kept_in_memory_as_text():
    keys = WriteKeys({KEY})
    assert KEY not in repr(vars(keys))


def test_query_key_reads_the_literal_parameter_only():
    assert query_key("writeKey=abc&writeKey=def") == "abc"
    assert query_key("") is None
