"""What a rejected request leaves as a dead letter, through Flask's test client: refusals at the door included.

A refused CORS preflight and a 401 are kept without a body (their own share
of the cap, see deadletters/letters.py), with what an operator needs to fix
them: the origin and what it asked for; the id of the write key tried, never
the key. A tracking-plan refusal keeps the violations' paths.
"""

from __future__ import annotations

from pathlib import Path

from collector import service
from collector.deadletters import letters as deadletters
from collector.ingest.keys import key_id
from tests.app.helpers import post

SHOP = "https://shop.example.com"
KEY = "k" * 24
WRONG = "the-wrong-key-0123456789"
PLAN = str(Path(__file__).parents[2] / "unit" / "plan" / "data" / "shop.json")
BAD = {"eventType": "product_viewed", "properties": {"sku": "A1", "price": "9.50", "currency": "EUR"}}


def letters(app) -> list[dict]:
    return sorted(deadletters.read(_data_dir(app)), key=lambda letter: letter["receivedAt"])


def _data_dir(app) -> Path:
    return service.of(app).settings.data_dir


def test_a_refused_preflight_is_kept_with_its_origin_method_headers_and_client(make_app):
    app = make_app(cors_origins=SHOP, dead_letter="on")
    client = app.test_client()
    headers = {"Origin": "https://Shop.Example.org", "Access-Control-Request-Method": "POST",
               "Access-Control-Request-Headers": "content-type, x-collector-key", "User-Agent": "Firefox/135"}
    answer = client.options("/collect/event", headers=headers, environ_base={"REMOTE_ADDR": "203.0.113.7"})
    assert answer.status_code == 204
    allowed = {**headers, "Origin": SHOP}
    assert client.options("/collect/event", headers=allowed).status_code == 204
    [letter] = letters(app)
    assert (letter["status"], letter["code"], letter["body"]) == (204, "cors_preflight_refused", None)
    assert letter["preflight"] == {
        "origin": "https://Shop.Example.org", "method": "POST", "headers": "content-type, x-collector-key"
    }
    assert letter["client"] == {"ip": "203.0.113.7", "userAgent": "Firefox/135"}
    assert "https://Shop.Example.org" in letter["message"] and "COLLECTOR_CORS_ORIGINS" in letter["message"]
    assert all(path.name.startswith(deadletters.BODILESS_PREFIX) for path in _letter_files(app))


def test_a_preflight_for_another_method_says_so(make_app):
    app = make_app(cors_origins=SHOP, dead_letter="on")
    headers = {"Origin": SHOP, "Access-Control-Request-Method": "DELETE"}
    assert app.test_client().options("/collect/event", headers=headers).status_code == 204
    [letter] = letters(app)
    assert letter["preflight"] == {"origin": SHOP, "method": "DELETE", "headers": None}
    assert "DELETE" in letter["message"]


def test_401s_are_kept_with_the_id_of_the_key_tried_and_never_the_key(make_app):
    app = make_app(api_keys=KEY, dead_letter="on")
    client = app.test_client()
    body = {"messageBody": [{"eventType": "page_view"}]}
    missing = post(client, body, remote_addr="203.0.113.7")
    wrong = post(client, body, headers={"Authorization": f"Bearer {WRONG}"})
    in_query = post(client, body, f"?writeKey={WRONG}")
    assert [missing.status_code, wrong.status_code, in_query.status_code] == [401, 401, 401]
    kept = letters(app)
    assert [letter["code"] for letter in kept] == ["missing_write_key", "invalid_write_key", "invalid_write_key"]
    assert [letter.get("triedKeyId") for letter in kept] == [None, key_id(WRONG), key_id(WRONG)]
    assert all(letter["body"] is None and letter["status"] == 401 for letter in kept)
    assert kept[0]["client"]["ip"] == "203.0.113.7"
    for path in _letter_files(app):
        assert WRONG.encode() not in path.read_bytes()


def test_a_tracking_plan_refusal_keeps_the_violations_paths(make_app):
    app = make_app(tracking_plan=PLAN, tracking_plan_mode="refuse", dead_letter="on")
    assert post(app.test_client(), {"messageBody": [BAD]}).status_code == 400
    [letter] = letters(app)
    assert letter["code"] == "tracking_plan_violation"
    assert letter["details"] == {"messageBody": {"0": {"/properties/price": ["expected number, got string"]}}}


def _letter_files(app) -> list[Path]:
    return sorted((_data_dir(app) / deadletters.DIRECTORY).glob("deadletters-*.jsonl"))
