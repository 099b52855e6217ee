"""The console's dead letters: the latest rejections by code, one letter in full, and replay only when allowed."""

from __future__ import annotations

import base64

import pytest

from collector.console.app import create_app
from collector.ingest.keys import key_id
from collector.settings import load_settings
from tests.app.helpers import stored

KEY = "console-key-0123456789"
WRITE_KEY = "w" * 24
WRONG = "the-wrong-write-key-0123"
HOSTILE = '<img src=x onerror="window.__pwned = 1">'


def console_of(tmp_path, key=None, allow_replay=False, **environ):
    settings = load_settings(environ={"COLLECTOR_DATA_DIR": str(tmp_path / "data"), **environ})
    return create_app(settings, key=key, allow_replay=allow_replay).test_client()


def bearer(key=KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def refusing(make_app):
    """A collector that keeps dead letters, allows only `view`, needs a write key, and knows one CORS origin."""
    return make_app(dead_letter="on", event_types="view", api_keys=WRITE_KEY, cors_origins="https://shop.example")


def refuse_three(collector) -> None:
    """A 400 with a body, a 401 with a wrong key, a refused preflight."""
    body = {"messageBody": [{"eventType": "signup", "properties": {"html": HOSTILE}}]}
    assert collector.post("/collect/event", json=body, headers=bearer(WRITE_KEY)).status_code == 400
    assert collector.post("/collect/event", json=body, headers=bearer(WRONG)).status_code == 401
    preflight = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    assert collector.options("/collect/event", headers=preflight).status_code == 204


def test_the_latest_rejections_by_code_without_bodies_and_filtered(refusing, tmp_path):
    refuse_three(refusing.test_client())
    answer = console_of(tmp_path).get("/api/rejections").get_json()
    assert [letter["code"] for letter in answer["letters"]] == [
        "cors_preflight_refused", "invalid_write_key", "invalid_event_type"
    ]
    assert answer["codes"] == {"cors_preflight_refused": 1, "invalid_event_type": 1, "invalid_write_key": 1}
    assert answer["replay"] is False
    assert all("body" not in letter for letter in answer["letters"])
    preflight, unauthorised, _ = answer["letters"]
    assert preflight["preflight"]["origin"] == "https://evil.example"
    assert unauthorised["triedKeyId"] == key_id(WRONG)
    only = console_of(tmp_path).get("/api/rejections?code=invalid_write_key").get_json()["letters"]
    assert [letter["code"] for letter in only] == ["invalid_write_key"]
    assert console_of(tmp_path).get("/api/rejections?limit=0").status_code == 400


def test_a_letter_opened_in_full_by_its_id(refusing, tmp_path):
    refuse_three(refusing.test_client())
    console = console_of(tmp_path)
    letters = console.get("/api/rejections").get_json()["letters"]
    refused = next(letter for letter in letters if letter["code"] == "invalid_event_type")
    answer = console.get(f"/api/deadletters/{refused['id']}")
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    letter = answer.get_json()["letter"]
    assert HOSTILE.replace('"', '\\"') in letter["body"] and letter["message"] and letter["client"]["ip"]
    assert answer.get_json()["replay"] == {"allowed": False, "replayed": False, "why_not": None}
    unauthorised = next(letter for letter in letters if letter["code"] == "invalid_write_key")
    opened = console.get(f"/api/deadletters/{unauthorised['id']}").get_json()
    assert opened["letter"]["body"] is None and opened["replay"]["why_not"]
    for unknown in ("00000000-0000-4000-8000-000000000000", "not-an-id"):
        answer = console.get(f"/api/deadletters/{unknown}")
        assert (answer.status_code, answer.get_json()["code"]) == (404, "not_found")


def test_no_written_key_reaches_the_console_api(refusing, tmp_path):
    refuse_three(refusing.test_client())
    console = console_of(tmp_path)
    texts = [console.get("/api/rejections").get_data(), console.get("/api/overview").get_data()]
    for letter in console.get("/api/rejections").get_json()["letters"]:
        texts.append(console.get(f"/api/deadletters/{letter['id']}").get_data())
    assert all(WRONG.encode() not in text and WRITE_KEY.encode() not in text for text in texts)


def test_without_the_flag_or_without_a_key_no_route_writes(refusing, tmp_path):
    refuse_three(refusing.test_client())
    letter = console_of(tmp_path).get("/api/rejections?code=invalid_event_type").get_json()["letters"][0]
    path = f"/api/deadletters/{letter['id']}/replay"
    keyed = console_of(tmp_path, key=KEY)
    answer = keyed.post(path, json={}, headers=bearer())
    assert (answer.status_code, answer.get_json()["code"]) == (404, "not_found")
    with pytest.raises(ValueError, match="COLLECTOR_CONSOLE_KEY"):
        console_of(tmp_path, allow_replay=True)
    assert console_of(tmp_path).post(path, json={}).status_code == 404


def test_replay_from_the_console_stores_once_through_the_replay(refusing, make_app, tmp_path):
    refuse_three(refusing.test_client())
    console = console_of(tmp_path, key=KEY, allow_replay=True, COLLECTOR_EVENT_TYPES="view,signup")
    letter = console.get("/api/rejections?code=invalid_event_type", headers=bearer()).get_json()["letters"][0]
    path = f"/api/deadletters/{letter['id']}/replay"
    opened = console.get(f"/api/deadletters/{letter['id']}", headers=bearer()).get_json()
    assert opened["replay"] == {"allowed": True, "replayed": False, "why_not": None}
    # Not a form a page elsewhere could make the browser send with the key it remembers: JSON only.
    forged = console.post(path, data="x", content_type="text/plain", headers=bearer())
    assert forged.status_code == 415
    answer = console.post(path, json={}, headers=bearer())
    assert answer.status_code == 200, answer.get_data()
    assert answer.get_json()["outcome"] == "stored" and answer.get_json()["pingId"]
    again = console.post(path, json={}, headers=bearer()).get_json()
    assert again["outcome"] == "already replayed"
    assert console.get(f"/api/deadletters/{letter['id']}", headers=bearer()).get_json()["replay"]["replayed"] is True
    events = stored(make_app(data_dir=str(tmp_path / "data")))
    assert [event["eventType"] for event in events] == ["signup"]
    unauthorised = console.get("/api/rejections?code=invalid_write_key", headers=bearer()).get_json()["letters"][0]
    refused = console.post(f"/api/deadletters/{unauthorised['id']}/replay", json={}, headers=bearer()).get_json()
    assert refused["outcome"] == "never replayed" and refused["why"]
    basic = base64.b64encode(f"x:{KEY}".encode()).decode()
    assert console.post(path, json={}, headers={"Authorization": f"Basic {basic}"}).status_code == 200
