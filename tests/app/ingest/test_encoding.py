"""Gzipped request bodies through the app: stored as sent, bombs and corrupt data refused."""

from __future__ import annotations

import gzip

import orjson
import pytest

from tests.app.helpers import stored
from tests.app.ingest.test_views import assert_error
from tests.bombs import gzip_of_zeros

BATCH = {
    "messageBody": [{"eventType": "page_view", "properties": {"path": "/pricing", "n": n}} for n in range(50)],
    "messageheader": {"appVersion": "2.4.1"},
}


def post_gzip(client, data: bytes, coding: str = "gzip"):
    return client.post(
        "/collect/event", data=data, content_type="application/json", headers={"Content-Encoding": coding}
    )


@pytest.mark.parametrize("coding", ["gzip", "x-gzip"])
def test_a_gzipped_batch_is_stored_as_sent(app, client, coding):
    response = post_gzip(client, gzip.compress(orjson.dumps(BATCH)), coding)
    assert response.status_code == 201
    records = stored(app)
    assert [{key: r[key] for key in ("eventType", "properties")} for r in records] == BATCH["messageBody"]
    assert {orjson.dumps(r["messageheader"]) for r in records} == {orjson.dumps(BATCH["messageheader"])}


def test_the_size_limit_applies_to_the_inflated_body(make_app):
    app = make_app(max_body_bytes=1000)
    body = orjson.dumps({"messageBody": [{"eventType": "x", "properties": {"pad": "a" * 1200}}]})
    compressed = gzip.compress(body)
    assert len(compressed) < 1000 < len(body)
    response = post_gzip(app.test_client(), compressed)
    assert_error(
        response,
        413,
        "Request Entity Too Large",
        "body_too_large",
        "request body is larger than 1000 bytes once decompressed",
    )
    assert stored(app) == []


@pytest.mark.parametrize("size", [10 << 20, 1 << 30], ids=["10MB", "1GB"])
def test_a_gzip_bomb_gets_413_and_nothing_is_stored(app, client, size):
    response = post_gzip(client, gzip_of_zeros(size))
    assert_error(
        response,
        413,
        "Request Entity Too Large",
        "body_too_large",
        "request body is larger than 1048576 bytes once decompressed",
    )
    assert stored(app) == []


def test_a_compressed_body_over_the_limit_as_sent_gets_413(make_app):
    app = make_app(max_body_bytes=1000)
    response = post_gzip(app.test_client(), gzip_of_zeros(1 << 20) + b"\0" * 1000)
    assert_error(response, 413, "Request Entity Too Large", "body_too_large", "request body is larger than 1000 bytes")


@pytest.mark.parametrize(
    "data, message",
    [
        (b"\x1f\x8b\x08\x00not deflate at all", "request body is not valid gzip: "),
        (gzip.compress(orjson.dumps(BATCH))[:-12], "request body's gzip data ends before the end of its stream"),
        (gzip.compress(orjson.dumps(BATCH)) + b"junk", "request body has 4 bytes after the end of its gzip data"),
        (orjson.dumps(BATCH), "request body is not valid gzip: "),
    ],
    ids=["corrupt", "truncated", "trailing garbage", "not compressed"],
)
def test_a_body_that_is_not_whole_gzip_gets_400_and_nothing_is_stored(app, client, data, message):
    response = post_gzip(client, data)
    assert response.status_code == 400
    body = response.get_json()
    assert (body["code"], body["statusCode"], body["error"]) == ("invalid_gzip", 400, "Bad Request")
    assert body["message"].startswith(message)
    assert stored(app) == []


def test_gzip_of_bad_json_gets_the_same_400_as_plain_bad_json(client):
    response = post_gzip(client, gzip.compress(b'{"messageBody": [NaN]}'))
    assert response.get_json()["code"] == "invalid_json"


def test_other_content_encodings_are_still_refused(client):
    response = post_gzip(client, orjson.dumps(BATCH), "br")
    assert_error(
        response,
        415,
        "Unsupported Media Type",
        "unsupported_content_encoding",
        "Content-Encoding 'br' is not supported; send the body as is, or gzip",
    )


def test_a_limit_counting_events_counts_the_gzipped_batch(make_app):
    app = make_app(rate_limit="60 per hour", rate_limit_cost="event")
    client = app.test_client()
    assert post_gzip(client, gzip.compress(orjson.dumps(BATCH))).headers["X-RateLimit-Remaining"] == "10"


def test_a_body_with_an_empty_gzip_member_is_stored(app, client):
    # Some gzip writers end a stream with an empty member (`gzip.compress(b"")`): still valid gzip.
    response = post_gzip(client, gzip.compress(orjson.dumps(BATCH)) + gzip.compress(b""))
    assert response.status_code == 201
    assert len(stored(app)) == len(BATCH["messageBody"])
