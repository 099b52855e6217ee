"""The Segment-compatible API through Flask's test client: the mapping field by field, and each answer."""

import base64
import gzip

import orjson
import pytest

from collector import service
from collector.deadletters import letters as deadletters
from tests.app import helpers
from tests.app.helpers import stored

KEY = "segment-write-key-0123456789"
SENT_AT = "2026-01-31T12:00:00.000Z"


def post(client, path, body, **kwargs):
    return helpers.post(client, body, path=path, **kwargs)


def basic(key):
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def without_server_fields(line):
    return {k: v for k, v in line.items() if k not in ("pingId", "receivedAt", "client")}


# One row per call: the message as an SDK sends it, and its stored line (the server's fields left out).
MAPPING = [
    (
        {"type": "track", "event": "Order Completed", "userId": "u1", "properties": {"total": 9.5},
         "messageId": "m-track", "context": {"library": {"name": "analytics-python"}}, "integrations": {}},
        {"eventType": "Order Completed", "eventId": "m-track", "type": "track", "event": "Order Completed",
         "userId": "u1", "properties": {"total": 9.5}, "context": {"library": {"name": "analytics-python"}},
         "integrations": {}},
    ),
    (
        {"type": "page", "name": "Home", "anonymousId": "a1", "properties": {"url": "https://x/"},
         "messageId": "m-page"},
        {"eventType": "page", "eventId": "m-page", "type": "page", "name": "Home", "anonymousId": "a1",
         "properties": {"url": "https://x/"}},
    ),
    (
        {"type": "screen", "name": "Cart", "userId": "u1", "messageId": "m-screen"},
        {"eventType": "screen", "eventId": "m-screen", "type": "screen", "name": "Cart", "userId": "u1"},
    ),
    (
        {"type": "identify", "userId": "u1", "anonymousId": None, "traits": {"plan": "pro"}, "messageId": "m-id"},
        {"eventType": "identify", "eventId": "m-id", "type": "identify", "userId": "u1", "traits": {"plan": "pro"}},
    ),
    (
        {"type": "group", "userId": "u1", "groupId": "g1", "traits": {"name": "ACME"}, "messageId": "m-group",
         "_metadata": {"jsRuntime": "node"}},
        {"eventType": "group", "eventId": "m-group", "type": "group", "userId": "u1", "groupId": "g1",
         "traits": {"name": "ACME"}, "_metadata": {"jsRuntime": "node"}},
    ),
    (
        {"type": "alias", "userId": "u2", "previousId": "u1", "messageId": "m-alias",
         "timestamp": "2000-01-31T11:59:00.000Z"},
        {"eventType": "alias", "eventId": "m-alias", "type": "alias", "userId": "u2", "previousId": "u1",
         "timestamp": "2000-01-31T11:59:00.000Z", "timestampFlag": "old"},  # no sentAt: judged as sent
    ),
]


@pytest.mark.parametrize(("message", "line"), MAPPING, ids=[m["type"] for m, _ in MAPPING])
def test_a_batch_message_is_stored_as_its_mapped_line(app, client, message, line):
    response = post(client, "/v1/batch", {"batch": [message], "writeKey": KEY})
    assert (response.status_code, response.get_json()) == (200, {"success": True})
    assert [without_server_fields(found) for found in stored(app)] == [line]


@pytest.mark.parametrize(("message", "line"), MAPPING, ids=[m["type"] for m, _ in MAPPING])
def test_a_single_call_is_stored_as_its_mapped_line(app, client, message, line):
    call = {k: v for k, v in message.items() if k != "type"}  # the path says the type
    response = post(client, f"/v1/{message['type']}", {**call, "writeKey": KEY})
    assert (response.status_code, response.get_json()) == (200, {"success": True})
    assert [without_server_fields(found) for found in stored(app)] == [line]


def test_the_batch_sent_at_corrects_clock_skew_as_messageheader_does(app, client):
    message = {"type": "track", "event": "E", "userId": "u", "timestamp": "2000-01-01T00:00:00.000Z"}
    post(client, "/v1/batch", {"batch": [message], "sentAt": "2000-01-01T00:00:10.000Z"})
    [line] = stored(app)
    assert line["originalTimestamp"] == "2000-01-01T00:00:00.000Z"
    assert line["messageheader"] == {"sentAt": "2000-01-01T00:00:10.000Z"}
    assert line["timestamp"] != line["originalTimestamp"]


def test_a_gzipped_batch_is_stored(app, client):
    body = gzip.compress(orjson.dumps({"batch": [MAPPING[0][0]]}))
    response = post(client, "/v1/batch", body, headers={"Content-Encoding": "gzip"})
    assert response.status_code == 200
    assert [line["eventId"] for line in stored(app)] == ["m-track"]


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ({"batch": "x"}, "invalid_field", "batch: Not a list."),
        (
            {"batch": [MAPPING[0][0], {"type": "shout", "userId": "u"}]},
            "invalid_field",
            "batch[1].type: Not one of track, page, screen, identify, group, alias.",
        ),
        ({"batch": [{"type": "track", "userId": "u"}]}, "invalid_event_type", "batch[0].event: invalid event type"),
        (
            {"batch": [{"type": "group", "userId": "u"}]},
            "invalid_field",
            "batch[0].groupId: Missing data for required field.",
        ),
        (
            {"batch": [{"type": "alias", "userId": "u"}]},
            "invalid_field",
            "batch[0].previousId: Missing data for required field.",
        ),
        ({"batch": [{"type": "page", "userId": 5}]}, "invalid_field", "batch[0].userId: Not a valid string."),
        (
            {"batch": [{"type": "page", "messageId": ""}]},
            "invalid_field",
            "batch[0].messageId: Length must be between 1 and 128.",
        ),
        (
            {"batch": [{"type": "page", "receivedAt": SENT_AT}]},
            "invalid_field",
            "batch[0].receivedAt: Set by the collector; not accepted from a client.",
        ),
        ({"batch": [{"type": "page", "traits": []}]}, "invalid_field", "batch[0].traits: Not an object."),
        ({"batch": [], "sentAt": SENT_AT}, "invalid_field", "batch: Length must be between 1 and 500."),
        (
            {"batch": [MAPPING[1][0]], "sentAt": "yesterday"},
            "invalid_field",
            "sentAt: Not an RFC 3339 date-time with an offset, e.g. 2026-01-31T12:00:00.000Z.",
        ),
        ([1], "not_an_object", "request body must be a JSON object"),
    ],
)
def test_a_malformed_batch_gets_400_and_nothing_is_stored(app, client, body, code, message):
    response = post(client, "/v1/batch", body)
    assert response.status_code == 400
    assert (response.get_json()["code"], response.get_json()["message"]) == (code, message)
    assert stored(app) == []


def test_a_single_call_whose_type_contradicts_its_path_is_refused(app, client):
    response = post(client, "/v1/track", {"type": "page", "event": "E", "userId": "u"})
    assert (response.status_code, response.get_json()["message"]) == (400, "type: Must be track on /v1/track.")


def test_a_message_over_32_kb_gets_413(app, client):
    message = {"type": "track", "event": "E", "userId": "u", "properties": {"p": "x" * 33000}}
    response = post(client, "/v1/batch", {"batch": [message]})
    assert (response.status_code, response.get_json()["code"]) == (413, "event_too_large")
    assert stored(app) == []


def test_a_batch_over_500_kb_gets_413(app, client):
    messages = [{"type": "track", "event": "E", "userId": "u", "properties": {"p": "x" * 30000}}] * 18
    response = post(client, "/v1/batch", {"batch": messages})
    assert (response.status_code, response.get_json()["code"]) == (413, "body_too_large")
    assert stored(app) == []


def test_write_keys_as_basic_auth_user_or_in_the_body(make_app):
    app = make_app(api_keys=KEY)
    client = app.test_client()
    batch = {"batch": [MAPPING[1][0]]}
    assert post(client, "/v1/batch", batch).status_code == 401
    assert post(client, "/v1/batch", batch, headers=basic("not-the-key-0123456789")).status_code == 401
    assert post(client, "/v1/batch", batch, headers=basic(KEY)).status_code == 200
    assert post(client, "/v1/batch", {**batch, "writeKey": KEY}).status_code == 200
    lines = stored(app)
    assert len(lines) == 2 and all(line["client"]["keyId"] for line in lines)
    assert all("writeKey" not in line for line in lines)


def test_dedupe_makes_a_resent_batch_store_once(make_app):
    app = make_app(dedupe="event")
    client = app.test_client()
    for _ in range(2):
        assert post(client, "/v1/batch", {"batch": [m for m, _ in MAPPING]}).status_code == 200
    assert sorted(line["eventId"] for line in stored(app)) == sorted(m["messageId"] for m, _ in MAPPING)


def test_the_rate_limit_is_the_collect_endpoints(make_app):
    app = make_app(rate_limit="2 per minute")
    client = app.test_client()
    assert client.post("/collect/event", json={"messageBody": [{"eventType": "x"}]}).status_code == 201
    assert post(client, "/v1/track", {"event": "E", "userId": "u"}).status_code == 200
    refused = post(client, "/v1/track", {"event": "E", "userId": "u"})
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] and refused.headers["X-RateLimit-Limit"] == "2"


def test_a_rate_limit_by_event_counts_the_messages_of_a_batch(make_app):
    app = make_app(rate_limit="3 per minute", rate_limit_cost="event")
    client = app.test_client()
    assert post(client, "/v1/batch", {"batch": [MAPPING[1][0]] * 2}).status_code == 200
    assert post(client, "/v1/batch", {"batch": [MAPPING[1][0]] * 2}).status_code == 429
    assert post(client, "/v1/page", MAPPING[1][0]).status_code == 200



@pytest.mark.parametrize(("path", "call"), [("/v1/t", "track"), ("/v1/p", "page"), ("/v1/s", "screen"),
                                            ("/v1/i", "identify"), ("/v1/g", "group"), ("/v1/a", "alias")])
def test_the_browser_sdks_short_paths_are_the_calls(app, client, path, call):
    [(message, line)] = [(m, line) for m, line in MAPPING if m["type"] == call]
    body = orjson.dumps({**message, "writeKey": KEY})
    # analytics-next sends text/plain, so that a browser needs no CORS preflight.
    response = client.post(path, data=body, content_type="text/plain")
    assert (response.status_code, response.get_json()) == (200, {"success": True})
    assert [without_server_fields(found) for found in stored(app)] == [line]


def test_the_browser_sdks_batch_path_is_the_batch(app, client):
    response = post(client, "/v1/b", {"batch": [m for m, _ in MAPPING]})
    assert response.status_code == 200
    assert len(stored(app)) == len(MAPPING)


def test_an_allowed_origin_can_read_the_answers_and_preflight(make_app):
    client = make_app(cors_origins="https://shop.example").test_client()
    origin = {"Origin": "https://shop.example"}
    answer = post(client, "/v1/b", {"batch": [MAPPING[1][0]]}, headers=origin)
    assert answer.headers["Access-Control-Allow-Origin"] == "https://shop.example"
    preflight = client.options("/v1/b", headers={**origin, "Access-Control-Request-Method": "POST",
                                                 "Access-Control-Request-Headers": "authorization"})
    assert preflight.status_code == 204
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]


def test_the_details_of_a_refusal_name_segments_fields(app, client):
    batch = post(client, "/v1/batch", {"batch": [{"type": "page", "messageId": 5}]})
    assert batch.get_json()["details"] == {"batch": {"0": {"messageId": ["Not a valid string."]}}}
    call = post(client, "/v1/page", {"messageId": 5})
    assert call.get_json()["details"] == {"messageId": ["Not a valid string."]}


def test_a_refused_segment_request_is_kept_as_a_dead_letter_with_its_path(make_app):
    app = make_app(dead_letter="on")
    post(app.test_client(), "/v1/batch", {"batch": [{"type": "shout"}]})
    [kept] = deadletters.read(service.of(app).settings.data_dir)
    assert (kept["code"], kept["path"]) == ("invalid_field", "/v1/batch")
