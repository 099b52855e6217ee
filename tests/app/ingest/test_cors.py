"""CORS through Flask's test client: preflights, and the headers on every answer of POST /collect/event."""

from __future__ import annotations

import orjson
import pytest

from tests.app import helpers
from tests.app.helpers import stored
from tests.app.ops.test_metrics import rejected
from tests.app.ratelimit.test_refusals import limiter_counters
from tests.processes import free_port

SHOP = "https://shop.example.com"
OTHER = "https://evil.example.net"
ONE_EVENT = orjson.dumps({"messageBody": [{"eventType": "page_view"}]})
EXPOSED = "X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After"


def preflight(client, origin=SHOP, method="POST", request_headers="content-type"):
    headers = {"Origin": origin, "Access-Control-Request-Method": method}
    if request_headers:
        headers["Access-Control-Request-Headers"] = request_headers
    return client.options("/collect/event", headers=headers, environ_base={"REMOTE_ADDR": "203.0.113.7"})


def post(client, body=ONE_EVENT, origin=SHOP, content_type="application/json"):
    headers = {"Origin": origin} if origin else {}
    return helpers.post(client, body, content_type=content_type, headers=headers, remote_addr="203.0.113.7")


def cors_headers(response) -> dict[str, str]:
    return {name: value for name, value in response.headers.items() if name.lower().startswith("access-control-")}


def assert_readable_by(response, origin):
    assert cors_headers(response) == {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Expose-Headers": EXPOSED,
    }
    assert response.headers["Vary"] == "Origin"


@pytest.fixture
def shop_client(make_app):
    return make_app(cors_origins=f"{SHOP}, http://localhost:3000").test_client()


def test_a_preflight_from_an_allowed_origin_is_answered_204_with_what_the_browser_needs(shop_client):
    response = preflight(shop_client, request_headers="content-type, x-collector-key, idempotency-key")
    assert response.status_code == 204
    assert response.get_data() == b""
    assert cors_headers(response) == {
        "Access-Control-Allow-Origin": SHOP,
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Allow-Methods": "POST",
        "Access-Control-Allow-Headers": (
            "Content-Type, Content-Encoding, Authorization, X-Collector-Key, Idempotency-Key, X-Retry-Count"
        ),
        "Access-Control-Max-Age": "7200",
    }
    assert response.headers["Vary"] == "Origin"
    assert "X-RateLimit-Limit" not in response.headers


def test_a_preflight_from_another_origin_or_for_another_method_gets_no_allow_headers(shop_client):
    for response in (preflight(shop_client, origin=OTHER), preflight(shop_client, method="DELETE")):
        assert response.status_code == 204
        assert cors_headers(response) == {}
        assert response.headers["Vary"] == "Origin"


def test_a_refused_preflight_is_counted_by_its_code(shop_client):
    before = rejected("cors_preflight_refused")
    assert preflight(shop_client).status_code == 204
    assert rejected("cors_preflight_refused") == before
    refused = [preflight(shop_client, origin=OTHER), preflight(shop_client, method="PUT")]
    assert [response.status_code for response in refused] == [204, 204]
    assert rejected("cors_preflight_refused") == before + 2


def test_preflights_are_never_rate_limited_nor_counted(make_app):
    client = make_app(cors_origins=SHOP, rate_limit="1 per hour").test_client()
    assert [preflight(client).status_code for _ in range(5)] == [204] * 5
    assert [preflight(client, origin=OTHER).status_code for _ in range(5)] == [204] * 5
    first = post(client)
    assert (first.status_code, first.headers["X-RateLimit-Remaining"]) == (201, "0")
    assert post(client).status_code == 429
    # A client over its limit still gets its preflights answered (and then its 429, readable).
    assert preflight(client).status_code == 204


def test_an_options_request_is_not_limited_with_cors_off_either(make_app):
    client = make_app(rate_limit="1 per hour").test_client()
    assert [preflight(client).status_code for _ in range(3)] == [200] * 3
    assert post(client, origin=None).status_code == 201


def test_201_and_400_for_an_allowed_origin_are_readable_by_it(shop_client):
    created = post(shop_client)
    assert created.status_code == 201
    assert_readable_by(created, SHOP)
    refused = post(shop_client, body=b'{"messageBody": [{"eventType": ""}]}')
    assert refused.status_code == 400
    assert refused.get_json()["code"] == "invalid_event_type"
    assert_readable_by(refused, SHOP)


def test_the_origin_is_echoed_as_the_browser_sent_it(shop_client):
    assert_readable_by(post(shop_client, origin="http://localhost:3000"), "http://localhost:3000")
    assert_readable_by(post(shop_client, origin="HTTPS://Shop.Example.com:443"), "HTTPS://Shop.Example.com:443")


def test_429_and_its_replay_are_readable_with_retry_after_exposed(make_app):
    app = make_app(cors_origins=SHOP, rate_limit="1 per hour")
    client = app.test_client()
    assert post(client).status_code == 201
    refused = post(client)
    assert refused.status_code == 429
    assert_readable_by(refused, SHOP)
    assert int(refused.headers["Retry-After"]) > 0
    counters = limiter_counters(app)

    replayed = post(client)
    assert replayed.status_code == 429
    assert limiter_counters(app) == counters, "answered by the replay, before the limiter"
    assert replayed.get_data() == refused.get_data()
    assert_readable_by(replayed, SHOP)
    assert replayed.headers["Retry-After"]


def test_a_segment_browser_call_replayed_429_is_readable(make_app):
    # @segment/analytics-next posts text/plain to /v1/t: its replayed 429 must be readable to back off.
    app = make_app(cors_origins=SHOP, rate_limit="1 per hour")
    client = app.test_client()
    track = orjson.dumps({"type": "track", "event": "Order Completed", "anonymousId": "a1"})
    assert post(client).status_code == 201
    assert post(client).status_code == 429
    counters = limiter_counters(app)
    replayed = client.post(
        "/v1/t", data=track, content_type="text/plain", headers={"Origin": SHOP},
        environ_base={"REMOTE_ADDR": "203.0.113.7"},
    )
    assert replayed.status_code == 429
    assert limiter_counters(app) == counters, "answered by the replay, before the limiter"
    assert_readable_by(replayed, SHOP)


def test_503_is_readable_by_an_allowed_origin(make_app):
    # memcached refused (nothing listens there) and COLLECTOR_RATE_LIMIT_ON_ERROR=closed.
    client = make_app(
        cors_origins=SHOP,
        rate_limit_storage=f"memcached://127.0.0.1:{free_port()}",
        rate_limit_on_error="closed",
    ).test_client()
    response = post(client)
    assert response.status_code == 503
    assert response.get_json()["code"] == "limit_storage_unavailable"
    assert_readable_by(response, SHOP)
    assert response.headers["Retry-After"] == "5"


def test_another_origin_gets_no_cors_headers_but_the_request_itself_goes_through(make_app):
    # CORS is a rule browsers apply to what a page may read: the server stores what it is sent.
    app = make_app(cors_origins=SHOP)
    client = app.test_client()
    response = post(client, origin=OTHER)
    assert response.status_code == 201
    assert cors_headers(response) == {}
    assert response.headers["Vary"] == "Origin"
    no_origin = post(client, origin=None)
    assert (no_origin.status_code, cors_headers(no_origin)) == (201, {})
    assert len(stored(app)) == 2


def test_any_origin_with_star_is_echoed_with_credentials_never_star(make_app):
    client = make_app(cors_origins="*").test_client()
    for origin in (SHOP, OTHER, "http://127.0.0.1:5173"):
        response = preflight(client, origin=origin)
        assert response.headers["Access-Control-Allow-Origin"] == origin
        assert response.headers["Access-Control-Allow-Credentials"] == "true"
        assert_readable_by(post(client, origin=origin), origin)


def test_cors_is_off_by_default(app, client):
    answers = [preflight(client), post(client), post(client, body=b"{")]
    assert [r.status_code for r in answers] == [200, 201, 400]
    for response in answers:
        assert cors_headers(response) == {}
        assert "Vary" not in response.headers


def test_other_paths_get_no_cors_headers(shop_client):
    response = shop_client.get("/healthz", headers={"Origin": SHOP})
    assert response.status_code == 200
    assert cors_headers(response) == {}


def test_a_text_plain_body_as_send_beacon_sends_it_is_stored(app, client):
    body = orjson.dumps({"messageBody": [{"eventType": "beacon", "eventId": "e-1", "properties": {"é": 1}}]})
    response = post(client, body=body, origin=None, content_type="text/plain;charset=UTF-8")
    assert response.status_code == 201
    [event] = stored(app)
    assert (event["eventType"], event["eventId"], event["properties"]) == ("beacon", "e-1", {"é": 1})


@pytest.mark.parametrize(
    "content_type, code",
    [
        ("text/plain; charset=latin-1", "unsupported_charset"),
        ("application/x-www-form-urlencoded", "unsupported_media_type"),
        ("multipart/form-data; boundary=x", "unsupported_media_type"),
        ("text/html", "unsupported_media_type"),
    ],
)
def test_other_content_types_are_still_415(app, client, content_type, code):
    response = post(client, origin=None, content_type=content_type)
    assert (response.status_code, response.get_json()["code"]) == (415, code)
    assert stored(app) == []
