"""The app through Flask's test client: each answer a client can get, and what lands on disk."""

import orjson
import pytest

from collector import service
from collector.errors import CODES
from tests.servers import read_events

EVENT = {"eventType": "click"}


def post(client, body, content_type="application/json", **kwargs):
    data = body if isinstance(body, (bytes, str)) else orjson.dumps(body)
    return client.post("/collect/event", data=data, content_type=content_type, **kwargs)


def stored(app):
    service.of(app).writer.close()
    return read_events(service.of(app).settings.data_dir)


def assert_error(response, status, error, message):
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert {key: body[key] for key in ("error", "message", "statusCode")} == {
        "error": error,
        "message": message,
        "statusCode": status,
    }
    assert CODES[body["code"]].status == status
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
    body = assert_error(response, 400, "Bad Request", "invalid event type")
    assert body["details"] == {"messageBody": {"2": {"eventType": ["invalid event type"]}}}
    assert stored(app) == []


@pytest.mark.parametrize(
    "body, message_start",
    [
        (b'{"messageBody": [{"eventType": "a", "v": NaN}]}', "request body is not valid JSON"),
        (b'{"messageBody": [{"eventType": "a", "v": Infinity}]}', "request body is not valid JSON"),
        (b'{"messageBody": [{"eventType": "\xff"}]}', "request body is not valid UTF-8: byte 32 is 0xff"),
        (b"[" * 50_000 + b"]" * 50_000, "request body is not valid JSON: depth limit exceeded"),
        (b'{"messageBody": [' + b"[" * 5000 + b"]" * 5000 + b'], "id": 123456789012345678901234}', "request body is nested too deeply"),
        (b'["messageBody"]', "request body must be a JSON object with a messageBody array"),
        (b"", "request body is empty; expected a JSON object"),
        (b'{"messageBody": [{"eventType": "a"}], "extra": 1}', "unknown field extra"),
    ],
)
def test_malformed_or_hostile_bodies_are_400_never_500(app, client, body, message_start):
    response = post(client, body)
    assert response.status_code == 400
    assert response.get_json()["message"].startswith(message_start)
    assert stored(app) == []


def test_properties_nested_past_orjsons_limit_are_stored_exactly(app, client):
    deep = "[" * 400 + "]" * 400
    body = '{"messageBody": [{"eventType": "a", "properties": {"deep": %s, "big": 18446744073709551616}}]}' % deep
    assert post(client, body).status_code == 201
    [record] = stored(app)
    assert record["properties"]["big"] == 2**64


@pytest.mark.parametrize(
    "content_type, message",
    [
        (None, "Content-Type must be application/json, got none"),
        ("text/plain", "Content-Type must be application/json, got 'text/plain'"),
        ("application/json; charset=latin-1", "charset must be utf-8, got 'latin-1'"),
    ],
)
def test_other_content_types_are_415(app, client, content_type, message):
    response = client.post("/collect/event", data=orjson.dumps({"messageBody": [EVENT]}), content_type=content_type)
    assert_error(response, 415, "Unsupported Media Type", message)
    assert stored(app) == []


def test_json_with_an_explicit_utf8_charset_is_accepted(client):
    assert post(client, {"messageBody": [EVENT]}, content_type="application/json; charset=UTF-8").status_code == 201


def test_a_body_over_the_limit_is_413(make_app):
    app = make_app(max_body_bytes="200")
    body = {"messageBody": [{"eventType": "a", "properties": {"pad": "x" * 300}}]}
    response = post(app.test_client(), body)
    assert_error(response, 413, "Request Entity Too Large", "request body is larger than 200 bytes")
    assert stored(app) == []


def test_one_event_over_the_stored_size_limit_is_413_and_nothing_is_stored(make_app):
    app = make_app(max_event_bytes="400")
    body = {"messageBody": [EVENT, {"eventType": "big", "properties": {"pad": "x" * 400}}]}
    response = post(app.test_client(), body)
    assert response.status_code == 413
    assert response.get_json()["message"].startswith("event 1 is ")
    assert stored(app) == []


def test_more_events_than_allowed_is_400(make_app):
    app = make_app(max_events="3")
    response = post(app.test_client(), {"messageBody": [EVENT] * 4})
    assert_error(response, 400, "Bad Request", "messageBody: Longer than maximum length 3.")


def test_the_allow_list_is_enforced(make_app):
    client = make_app(event_types="click,view").test_client()
    assert post(client, {"messageBody": [{"eventType": "view"}]}).status_code == 201
    assert_error(post(client, {"messageBody": [{"eventType": "buy"}]}), 400, "Bad Request", "invalid event type")


def test_unknown_paths_and_methods_get_json_errors(client):
    assert_error(client.get("/nowhere"), 404, "Not Found", client.get("/nowhere").get_json()["message"])
    response = client.get("/collect/event")
    assert_error(response, 405, "Method Not Allowed", "The method is not allowed for the requested URL.")
    assert "POST" in response.headers["Allow"]


def test_an_unexpected_error_is_a_json_500_without_a_traceback(app):
    def broken():
        raise RuntimeError("secret internals")

    app.add_url_rule("/broken", view_func=broken)
    response = app.test_client().get("/broken")
    body = assert_error(response, 500, "Internal Server Error", "unexpected server error; see the service log")
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
    blocked = tmp_path / "blocked"
    blocked.write_text("a file, not a directory")
    client = make_app(data_dir=str(blocked)).test_client()
    assert client.get("/readyz").status_code == 503
    assert client.get("/healthz").status_code == 200
