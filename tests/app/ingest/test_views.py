"""The app through Flask's test client: each answer a client can get, and what lands on disk."""

import re
import shutil

import orjson
import pytest

from collector import service
from collector.errors import CODES
from tests.app.helpers import post, stored

NOT_JSON = "request body is not valid JSON: "

EVENT = {"eventType": "click"}


def assert_error(response, status, error, code, message):
    """The contract's envelope, with its stable code; the whole body is returned for more checks."""
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert {key: body[key] for key in ("error", "message", "statusCode", "code")} == {
        "error": error,
        "message": message,
        "statusCode": status,
        "code": code,
    }
    assert CODES[code].status == status
    return body


def test_a_valid_batch_is_stored_in_order_with_one_ping_id(app, client):
    events = [{"eventType": f"type{n}", "properties": {"n": n}} for n in range(3)]
    response = post(client, {"messageBody": events})
    assert response.status_code == 201
    ping_id = orjson.loads(response.get_json()["value"])["pingId"]
    records = stored(app)
    assert [r["eventType"] for r in records] == ["type0", "type1", "type2"]
    assert {r["pingId"] for r in records} == {ping_id}
    assert len({r["eventId"] for r in records}) == 3


def test_a_batch_with_one_bad_event_writes_nothing(app, client):
    response = post(client, {"messageBody": [EVENT, EVENT, {"eventType": "\x07"}]})
    body = assert_error(response, 400, "Bad Request", "invalid_event_type", "invalid event type")
    assert body["details"] == {"messageBody": {"2": {"eventType": ["invalid event type"]}}}
    assert stored(app) == []


@pytest.mark.parametrize(
    "body, code, message",
    [
        (
            b'{"messageBody": [{"eventType": "a", "v": NaN}]}',
            "invalid_json",
            NOT_JSON + "unexpected character, expected a JSON value: line 1 column 42 (char 41)",
        ),
        (
            b'{"messageBody": [{"eventType": "a", "v": Infinity}]}',
            "invalid_json",
            NOT_JSON + "unexpected character, expected a JSON value: line 1 column 42 (char 41)",
        ),
        (
            b'{"messageBody": [{"eventType": "\xff"}]}',
            "invalid_utf8",
            "request body is not valid UTF-8: byte 32 is 0xff",
        ),
        (b"[" * 50_000 + b"]" * 50_000, "nesting_too_deep", "request body is nested too deeply"),
        (
            b'{"messageBody": [' + b"[" * 5000 + b"]" * 5000 + b'], "id": 123456789012345678901234}',
            "nesting_too_deep",
            "request body is nested too deeply",
        ),
        (b'["messageBody"]', "not_an_object", "request body must be a JSON object with a messageBody array"),
        (b"", "empty_body", "request body is empty; expected a JSON object"),
        (b'{"messageBody": [{"eventType": "a"}], "extra": 1}', "unknown_field", "unknown field extra"),
    ],
)
def test_malformed_or_hostile_bodies_are_400_never_500(app, client, body, code, message):
    assert_error(post(client, body), 400, "Bad Request", code, message)
    assert stored(app) == []


def deep_event(levels: int) -> str:
    deep = "[" * levels + "]" * levels
    return '{"messageBody": [{"eventType": "a", "properties": {"deep": %s, "big": 18446744073709551616}}]}' % deep  # noqa: UP031 - a JSON text: with %, its braces need no doubling


def test_deep_properties_with_a_big_integer_are_stored_exactly(app, client):
    assert post(client, deep_event(200)).status_code == 201
    [record] = stored(app)
    assert record["properties"]["big"] == 2**64


def test_an_event_nested_too_deep_to_store_is_400_and_nothing_is_stored(app, client):
    response = post(client, deep_event(400))
    assert_error(response, 400, "Bad Request", "nesting_too_deep", "event 0 is nested too deeply to store")
    assert stored(app) == []


@pytest.mark.parametrize(
    "content_type, code, message",
    [
        (None, "unsupported_media_type", "Content-Type must be application/json or text/plain, got none"),
        ("text/csv", "unsupported_media_type", "Content-Type must be application/json or text/plain, got 'text/csv'"),
        ("text/plain; charset=latin-1", "unsupported_charset", "charset must be utf-8, got 'latin-1'"),
        ("application/json; charset=latin-1", "unsupported_charset", "charset must be utf-8, got 'latin-1'"),
    ],
)
def test_other_content_types_are_415(app, client, content_type, code, message):
    response = client.post("/collect/event", data=orjson.dumps({"messageBody": [EVENT]}), content_type=content_type)
    assert_error(response, 415, "Unsupported Media Type", code, message)
    assert stored(app) == []


def test_json_with_an_explicit_utf8_charset_is_accepted(client):
    assert post(client, {"messageBody": [EVENT]}, content_type="application/json; charset=UTF-8").status_code == 201


def test_a_body_over_the_limit_is_413(make_app):
    app = make_app(max_body_bytes="200")
    body = {"messageBody": [{"eventType": "a", "properties": {"pad": "x" * 300}}]}
    response = post(app.test_client(), body)
    assert_error(response, 413, "Request Entity Too Large", "body_too_large", "request body is larger than 200 bytes")
    assert stored(app) == []


def test_one_event_over_the_stored_size_limit_is_413_and_nothing_is_stored(make_app):
    app = make_app(max_event_bytes="400")
    body = {"messageBody": [EVENT, {"eventType": "big", "properties": {"pad": "x" * 400}}]}
    response = post(app.test_client(), body)
    body = response.get_json()
    # The size as stored depends on the server's fields; the rest is exact.
    size = re.fullmatch(r"event 1 is (\d+) bytes as stored; the limit is 400 bytes", body["message"])
    assert size and int(size.group(1)) > 400
    assert_error(response, 413, "Request Entity Too Large", "event_too_large", body["message"])
    assert body["details"] == {"messageBody": {"1": ["Event too large."]}}
    assert stored(app) == []


def test_more_events_than_allowed_is_400(make_app):
    app = make_app(max_events="3")
    response = post(app.test_client(), {"messageBody": [EVENT] * 4})
    body = assert_error(response, 400, "Bad Request", "too_many_events", "messageBody: Longer than maximum length 3.")
    assert body["details"] == {"messageBody": ["Longer than maximum length 3."]}


def test_the_allow_list_is_enforced(make_app):
    client = make_app(event_types="click,view").test_client()
    assert post(client, {"messageBody": [{"eventType": "view"}]}).status_code == 201
    response = post(client, {"messageBody": [{"eventType": "buy"}]})
    assert_error(response, 400, "Bad Request", "invalid_event_type", "invalid event type")


def test_unknown_paths_and_methods_get_json_errors(client):
    assert_error(
        client.get("/nowhere"),
        404,
        "Not Found",
        "not_found",
        "The requested URL was not found on the server. "
        "If you entered the URL manually please check your spelling and try again.",
    )
    response = client.get("/collect/event")
    assert_error(
        response, 405, "Method Not Allowed", "method_not_allowed", "The method is not allowed for the requested URL."
    )
    assert "POST" in response.headers["Allow"]


def test_an_unexpected_error_is_a_json_500_without_a_traceback(app):
    def broken():
        raise RuntimeError("secret internals")

    app.add_url_rule("/broken", view_func=broken)
    response = app.test_client().get("/broken")
    body = assert_error(
        response, 500, "Internal Server Error", "internal_error", "unexpected server error; see the service log"
    )
    assert "secret" not in response.get_data(as_text=True)
    assert "details" not in body


def test_the_client_address_comes_from_x_forwarded_for_only_behind_a_trusted_proxy(make_app):
    headers = {"X-Forwarded-For": "198.51.100.9"}
    direct = make_app()
    post(direct.test_client(), {"messageBody": [EVENT]}, headers=headers)
    assert stored(direct)[0]["client"]["ip"] == "127.0.0.1"
    proxied = make_app(trusted_proxies="1", data_dir=str(service.of(direct).settings.data_dir) + "2")
    post(proxied.test_client(), {"messageBody": [EVENT]}, headers=headers)
    assert stored(proxied)[0]["client"]["ip"] == "198.51.100.9"


def test_health_checks_answer_json(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").get_json()["status"] == "ok"


def test_readyz_is_503_when_the_data_directory_cannot_be_written(make_app, tmp_path):
    data_dir = tmp_path / "data"
    client = make_app(data_dir=str(data_dir)).test_client()
    assert client.get("/readyz").status_code == 200
    shutil.rmtree(data_dir)
    data_dir.write_text("a file, not a directory")
    response = client.get("/readyz")
    # Why depends on whether the file took the directory's inode: not the same directory, or not a directory.
    message = response.get_json()["message"]
    assert message.startswith("the data directory is not writable: ") and str(data_dir) not in message
    assert_error(response, 503, "Service Unavailable", "storage_unavailable", message)
    assert response.headers["Retry-After"] == "5"
    assert client.get("/healthz").status_code == 200
