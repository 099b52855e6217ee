"""Write keys through the app: who gets in, what a refusal looks like, what is stored, how limits count."""

from __future__ import annotations

import orjson
import pytest

from collector import service
from collector.ingest.keys import key_id
from tests.app import helpers
from tests.app.helpers import stored
from tests.app.ingest.test_views import assert_error
from tests.app.ratelimit.test_refusals import limiter_counters

KEY = "k3y-0123456789abcdef"
OTHER = "other-key-fedcba9876543210"
BODY = orjson.dumps({"messageBody": [{"eventType": "signup"}]})
ADDRESS = "203.0.113.7"


def post(client, headers=None, query="", remote_addr=ADDRESS):
    return helpers.post(client, BODY, query, headers=headers, remote_addr=remote_addr)


@pytest.fixture
def keyed_app(make_app):
    return make_app(api_keys=f"{KEY},{OTHER}")


def test_without_keys_set_no_key_is_needed(app, client):
    assert post(client).status_code == 201
    assert "keyId" not in stored(app)[0]["client"]


@pytest.mark.parametrize(
    "headers, query",
    [
        ({"Authorization": f"Bearer {KEY}"}, ""),
        ({"X-Collector-Key": KEY}, ""),
        ({}, f"?writeKey={KEY}"),
    ],
    ids=["bearer", "header", "query"],
)
def test_a_valid_key_is_accepted_and_only_its_id_is_stored(keyed_app, headers, query):
    response = post(keyed_app.test_client(), headers, query)
    assert response.status_code == 201
    [record] = stored(keyed_app)
    assert record["client"] == {"ip": ADDRESS, "userAgent": record["client"]["userAgent"], "keyId": key_id(KEY)}
    files = list(service.of(keyed_app).settings.data_dir.rglob("*"))
    assert all(KEY.encode() not in path.read_bytes() for path in files if path.is_file())


def test_a_request_without_a_key_gets_401_and_nothing_is_stored(keyed_app):
    response = post(keyed_app.test_client())
    assert_error(
        response,
        401,
        "Unauthorized",
        "missing_write_key",
        "a write key is required: send it as 'Authorization: Bearer <key>', 'X-Collector-Key: <key>' "
        "or ?writeKey=<key>",
    )
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="collector"'
    assert stored(keyed_app) == []


@pytest.mark.parametrize(
    "headers, query",
    [
        ({"Authorization": "Bearer not-the-key-0123456789"}, ""),
        ({"X-Collector-Key": KEY + "x"}, ""),
        ({}, "?writeKey=nope"),
    ],
)
def test_a_request_with_a_wrong_key_gets_401_and_nothing_is_stored(keyed_app, headers, query):
    response = post(keyed_app.test_client(), headers, query)
    assert_error(response, 401, "Unauthorized", "invalid_write_key", "the write key is not valid for this collector")
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="collector", error="invalid_token"'
    assert stored(keyed_app) == []


def test_a_key_is_checked_before_the_body_is_read(keyed_app):
    response = keyed_app.test_client().post("/collect/event", data=b"not json", content_type="text/html")
    assert response.get_json()["code"] == "missing_write_key"


def test_refused_requests_do_not_use_up_the_clients_limit(make_app):
    app = make_app(api_keys=KEY, rate_limit="2 per hour")
    client = app.test_client()
    refused = [post(client) for _ in range(5)]
    assert {response.status_code for response in refused} == {401}
    # Not counted, so no X-RateLimit-* headers: nothing was checked.
    assert not any("X-RateLimit-Limit" in response.headers for response in refused)
    statuses = [post(client, {"X-Collector-Key": KEY}).status_code for _ in range(3)]
    assert statuses == [201, 201, 429]


def test_by_key_each_key_has_its_own_limit_wherever_it_comes_from(make_app):
    app = make_app(api_keys=f"{KEY},{OTHER}", rate_limit="2 per hour", rate_limit_by="key")
    client = app.test_client()
    assert post(client, {"X-Collector-Key": KEY}, remote_addr="203.0.113.7").status_code == 201
    assert post(client, {"X-Collector-Key": KEY}, remote_addr="198.51.100.9").status_code == 201
    third = post(client, {"X-Collector-Key": KEY}, remote_addr="192.0.2.1")
    assert (third.status_code, third.headers["X-RateLimit-Remaining"]) == (429, "0")
    # The same addresses with another key: a fresh limit.
    assert post(client, {"X-Collector-Key": OTHER}, remote_addr="203.0.113.7").status_code == 201


def test_by_key_a_refusal_is_replayed_for_the_key_never_for_its_address(make_app):
    app = make_app(api_keys=f"{KEY},{OTHER}", rate_limit="1 per hour", rate_limit_by="key")
    client = app.test_client()
    assert post(client, {"X-Collector-Key": KEY}).status_code == 201
    first = post(client, {"X-Collector-Key": KEY})
    assert first.status_code == 429
    counters = limiter_counters(app)
    again = post(client, {"X-Collector-Key": KEY}, remote_addr="198.51.100.9")
    assert (again.status_code, again.get_data()) == (429, first.get_data())
    assert limiter_counters(app) == counters, "replayed, without asking the limiter"
    # The address the key was refused from is not refused for another key, nor without a key.
    assert post(client, {"X-Collector-Key": OTHER}).status_code == 201
    assert post(client).get_json()["code"] == "missing_write_key"


def test_by_client_a_refused_address_stays_refused_whatever_its_key(make_app):
    app = make_app(api_keys=f"{KEY},{OTHER}", rate_limit="1 per hour")
    client = app.test_client()
    assert post(client, {"X-Collector-Key": KEY}).status_code == 201
    assert post(client, {"X-Collector-Key": KEY}).status_code == 429
    assert post(client, {"X-Collector-Key": OTHER}).status_code == 429


def test_a_cors_preflight_is_not_asked_for_a_key(keyed_app):
    response = keyed_app.test_client().options(
        "/collect/event",
        headers={"Origin": "https://www.example.com", "Access-Control-Request-Method": "POST"},
    )
    assert response.status_code != 401
