"""`collector deadletter replay` on letters in a tmp data directory: what it stores, and what never twice."""

from __future__ import annotations

import re
import time
import uuid

import orjson
import pytest

from collector import jsontext, service
from collector.deadletters import letters as deadletters
from collector.deadletters.replay import replay
from collector.errors import CODES
from collector.ingest.eventtime import format_time
from collector.ingest.keys import key_id
from collector.settings import load_settings
from collector.store import build_writer
from tests.servers import doc_section, read_events


@pytest.fixture
def data_dir(tmp_path):
    path = tmp_path / "data"
    (path / deadletters.DIRECTORY).mkdir(parents=True)
    return path


def settings_for(data_dir, **overrides):
    return load_settings(environ={}, overrides={"data_dir": str(data_dir), **overrides})


def letter(data_dir, body, *, code="invalid_event_type", status=400, received_at=None, **fields) -> str:
    """A dead letter as the service writes it (collector.deadletters.keep), appended to a letters file."""
    text = body if isinstance(body, str) else orjson.dumps(body).decode()
    entry = {
        "id": str(uuid.uuid4()),
        "receivedAt": format_time(time.time() if received_at is None else received_at),
        "status": status,
        "code": code,
        "message": "refused",
        "pingId": str(uuid.uuid4()),
        "contentType": "application/json",
        "client": {"ip": "203.0.113.7", "userAgent": "test"},
        **fields,
        "body": text,
        "bodyBytes": len(text),
        "bodyTruncated": False,
    }
    with open(data_dir / deadletters.DIRECTORY / "deadletters-20261203T000000.000000Z-h-1.jsonl", "ab") as out:
        out.write(jsontext.dumps_line(entry))
    return entry["id"]


def events_body(event_type="signup", *event_ids, **extra):
    events = [{"eventType": event_type, **({"eventId": i} if i else {})} for i in event_ids]
    return {"messageBody": events or [{"eventType": event_type}], **extra}


def store(settings, *lines: dict) -> None:
    writer = build_writer(settings)
    try:
        writer.append([jsontext.dumps_line(line) for line in lines])
    finally:
        writer.close()


def test_every_error_code_has_a_replay_rule():
    from collector.deadletters import rules

    ruled = rules.THROUGH_CHECKS | set(rules.NEVER)
    assert set(CODES) <= ruled, f"decide what replay does with {sorted(set(CODES) - ruled)}"
    assert not rules.THROUGH_CHECKS & set(rules.NEVER)


def test_the_readme_table_says_what_the_code_does_for_every_code():
    from collector.deadletters import rules

    rows = [
        row
        for row in doc_section("retries-and-dead-letters.md", "Retries, duplicates and dead letters").splitlines()
        if row.startswith("| `")
    ]
    said = {code: row.rsplit("|", 2)[1] for row in rows for code in re.findall(r"`([a-z_0-9]+)`", row.split("|")[1])}
    for code in rules.THROUGH_CHECKS:
        assert "through today's checks" in said.get(code, ""), code
    for code in rules.NEVER:
        assert said.get(code, "").strip().startswith("never"), code


def test_letters_whose_client_was_told_to_resend_are_never_replayed(data_dir):
    letter(data_dir, events_body("signup", "e-409"), code="idempotency_key_in_flight", status=409,
           idempotencyKey="k-1")
    letter(data_dir, events_body("signup", "e-503"), code="storage_unavailable", status=503)
    letter(data_dir, events_body("signup", "e-new"), code="a_code_from_a_newer_version", status=400)
    letter(data_dir, events_body("signup", "e-400"))
    report = replay(settings_for(data_dir))
    assert [event["eventId"] for event in read_events(data_dir)] == ["e-400"]
    assert report.never == {"idempotency_key_in_flight": 1, "storage_unavailable": 1, "a_code_from_a_newer_version": 1}


def test_a_letter_whose_key_a_resend_stored_stores_nothing_and_a_replayed_key_answers_the_next_resend(
    data_dir, make_app
):
    app = make_app(data_dir=str(data_dir))
    client = app.test_client()
    resent = events_body("signup", "e-1")
    def post(body, key):  # the bytes a letter keeps (Flask's json= would sort the keys)
        return client.post("/collect/event", data=orjson.dumps(body), content_type="application/json",
                           headers={"Idempotency-Key": key})

    assert post(resent, "k-resent").status_code == 201
    letter(data_dir, resent, idempotencyKey="k-resent")
    letter(data_dir, events_body("signup", "e-2"), idempotencyKey="k-only-replayed")
    service.of(app).writer.close()  # the replay writes beside it, as a CLI beside the service does
    report = replay(settings_for(data_dir))
    assert sorted(event["eventId"] for event in read_events(data_dir)) == ["e-1", "e-2"]
    assert report.already_stored == 1 and len(report.stored) == 1
    # The client resends the letter it never saw stored: the replay's 201, nothing stored again.
    again = post(events_body("signup", "e-2"), "k-only-replayed")
    assert again.status_code == 201 and report.stored[0][1] in again.get_data(as_text=True)
    assert sorted(event["eventId"] for event in read_events(data_dir)) == ["e-1", "e-2"]


def test_a_letters_idempotency_key_belongs_to_its_write_key(data_dir, make_app):
    key, other = "replay-unit-key-0001", "replay-unit-key-0002"
    app = make_app(data_dir=str(data_dir), api_keys=f"{key},{other}")
    body = {"messageBody": [{"eventType": "signup"}]}  # no eventId: only the key can tell a copy
    resent = app.test_client().post(
        "/collect/event", data=orjson.dumps(body), content_type="application/json",
        headers={"Idempotency-Key": "k-1", "Authorization": f"Bearer {key}"},
    )
    assert resent.status_code == 201
    service.of(app).writer.close()
    letter(data_dir, body, idempotencyKey="k-1", client={"ip": None, "keyId": key_id(key)})
    letter(data_dir, body, idempotencyKey="k-1", client={"ip": None, "keyId": key_id(other)})
    report = replay(settings_for(data_dir))
    assert (report.already_stored, len(report.stored)) == (1, 1), "the same key of another write key is another request"
    assert sorted(event["client"]["keyId"] for event in read_events(data_dir)) == sorted([key_id(key), key_id(other)])


def test_events_already_stored_for_the_same_write_key_are_not_stored_again(data_dir):
    settings = settings_for(data_dir)
    now = format_time(time.time())
    store(
        settings,
        {"eventType": "signup", "eventId": "e-1", "receivedAt": now, "client": {"keyId": "aaaaaaaa"}},
        {"eventType": "signup", "eventId": "e-3", "receivedAt": now, "client": {"keyId": "bbbbbbbb"}},
    )
    letter(data_dir, events_body("signup", "e-1", "e-2", "e-3"), client={"ip": None, "keyId": "aaaaaaaa"})
    report = replay(settings)
    stored = [(e["eventId"], e["client"]["keyId"]) for e in read_events(data_dir)][2:]
    assert stored == [("e-2", "aaaaaaaa"), ("e-3", "aaaaaaaa")], "e-1 was there; e-3 of another key is not the same"
    assert report.duplicates == 1


def test_letters_of_one_request_resent_several_times_store_it_once(data_dir):
    for _ in range(3):  # a client retrying its refused request, each copy a letter
        letter(data_dir, events_body("signup", "e-1", "e-2"))
    report = replay(settings_for(data_dir))
    assert sorted(event["eventId"] for event in read_events(data_dir)) == ["e-1", "e-2"]
    assert (len(report.stored), report.already_stored) == (1, 2)


def test_a_replay_that_crashed_before_recording_its_letters_stores_nothing_twice(data_dir):
    letter(data_dir, events_body("signup", None))  # an event without eventId: the replay gives it a stable one
    settings = settings_for(data_dir)
    replay(settings)
    (data_dir / deadletters.DIRECTORY / deadletters.REPLAYED).unlink()  # as if it died after its write
    replay(settings)
    assert len(read_events(data_dir)) == 1


def test_clock_skew_is_measured_against_the_letters_receipt_not_the_replay(data_dir):
    received = time.time() - 3600  # the letter waited an hour for its replay
    correct = {"sentAt": format_time(received - 0.2)}
    letter(
        data_dir,
        {
            "messageBody": [{"eventType": "signup", "eventId": "right", "timestamp": format_time(received - 5)}],
            "messageheader": correct,
        },
        received_at=received,
    )
    slow = {"sentAt": format_time(received - 7200)}  # a clock two hours behind
    letter(
        data_dir,
        {
            "messageBody": [{"eventType": "signup", "eventId": "behind", "timestamp": format_time(received - 7205)}],
            "messageheader": slow,
        },
        received_at=received,
    )
    replay(settings_for(data_dir))
    right, behind = read_events(data_dir)
    assert right["timestamp"] == format_time(received - 5) and "clockSkewSeconds" not in right
    assert behind["clockSkewSeconds"] == pytest.approx(7200, abs=0.01)
    assert behind["timestamp"] == format_time(received - 5)
    assert behind["originalTimestamp"] == format_time(received - 7205)


def test_replayed_events_keep_the_write_key_id(data_dir):
    letter(data_dir, events_body("signup", "e-1"), client={"ip": "203.0.113.7", "userAgent": "t", "keyId": "1234abcd"})
    replay(settings_for(data_dir))
    [event] = read_events(data_dir)
    assert event["client"] == {"ip": "203.0.113.7", "userAgent": "t", "keyId": "1234abcd"}


GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def test_a_replay_classifies_the_letter_kept_user_agent_as_a_new_request_would(data_dir):
    letter(data_dir, events_body("signup", "e-1"), client={"ip": "203.0.113.7", "userAgent": GOOGLEBOT})
    body = {"messageBody": [{"eventType": "signup", "eventId": "e-2", "context": {"webdriver": True}}]}
    letter(data_dir, body, client={"ip": "203.0.113.7", "userAgent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"})
    replay(settings_for(data_dir))
    assert [event["client"]["bot"] for event in read_events(data_dir)] == [
        {"name": "Googlebot", "category": "crawler"},
        {"name": "WebDriver", "category": "headless"},
    ]


def test_with_bots_refused_a_replay_stores_no_bot_letter(data_dir):
    letter(data_dir, events_body("signup", "e-1"), client={"ip": "203.0.113.7", "userAgent": GOOGLEBOT})
    letter(data_dir, events_body("signup", "e-2"))
    report = replay(settings_for(data_dir, bots="refuse"))
    assert report.refused == {"bot_refused": 1}
    assert [event["eventId"] for event in read_events(data_dir)] == ["e-2"]


def test_a_replay_is_refused_while_another_runs(data_dir):
    letter(data_dir, events_body("signup", "e-1"))
    with deadletters.replay_lock(data_dir), pytest.raises(deadletters.ReplayRunning):
        replay(settings_for(data_dir))
    assert read_events(data_dir) == []
    replay(settings_for(data_dir))
    assert len(read_events(data_dir)) == 1


def test_the_replay_record_forgets_letters_the_cap_deleted(data_dir):
    letter(data_dir, events_body("signup", "e-1"))
    replay(settings_for(data_dir))
    for path in (data_dir / deadletters.DIRECTORY).glob("deadletters-*.jsonl"):
        path.unlink()  # as the cap does
    letter(data_dir, events_body("signup", "e-2"))
    replay(settings_for(data_dir))
    assert len(deadletters.replayed_ids(data_dir)) == 1, "the record holds the ids of letters still kept"


def test_a_segment_api_letter_is_not_replayable_and_says_why(data_dir):
    letter_id = letter(data_dir, {"batch": [{"type": "page", "messageId": "m1"}]}, path="/v1/batch")
    report = replay(settings_for(data_dir))
    assert read_events(data_dir) == []
    assert report.not_replayable == [
        (letter_id, "a Segment API request (/v1/batch): replay reads /collect/event bodies only")
    ]
    assert report.refused == {}


def plan_file(path, most):
    properties = {"type": "object", "properties": {"n": {"type": "integer", "maximum": most}}, "required": ["n"]}
    plan = {"eventTypes": {"signup": {"properties": properties}}, "otherEventTypes": "refuse"}
    path.write_bytes(orjson.dumps(plan))
    return str(path)


def test_a_letter_the_plan_refused_is_checked_against_the_plan_of_the_replay(data_dir, tmp_path):
    body = {"messageBody": [{"eventType": "signup", "eventId": "e1", "properties": {"n": 50}}]}
    letter(data_dir, body, code="tracking_plan_violation")
    strict = plan_file(tmp_path / "strict.json", 10)
    report = replay(settings_for(data_dir, tracking_plan=strict, tracking_plan_mode="refuse"))
    assert (report.refused, read_events(data_dir)) == ({"tracking_plan_violation": 1}, [])
    fixed = plan_file(tmp_path / "fixed.json", 100)
    report = replay(settings_for(data_dir, tracking_plan=fixed, tracking_plan_mode="refuse"))
    assert len(report.stored) == 1
    [event] = read_events(data_dir)
    assert (event["eventId"], "planViolations" in event) == ("e1", False)


def test_a_replay_in_flag_mode_stores_the_letter_flagged(data_dir, tmp_path):
    body = {"messageBody": [{"eventType": "signup", "properties": {"n": 50}}]}
    letter(data_dir, body, code="tracking_plan_violation")
    replay(settings_for(data_dir, tracking_plan=plan_file(tmp_path / "plan.json", 10)))
    [event] = read_events(data_dir)
    assert event["planViolations"] == [{"path": "/properties/n", "message": "greater than the maximum 10"}]


def test_a_replay_stores_no_letter_of_a_suppressed_person(data_dir, tmp_path):
    # Kept for another code before the person asked not to be collected: today's list applies, as to a new request.
    listed = tmp_path / "suppressed.txt"
    listed.write_text("gone-user\n")
    letter(data_dir, {"messageBody": [{"eventType": "signup", "eventId": "e-1", "userId": "gone-user"}]})
    letter(data_dir, {"messageBody": [{"eventType": "signup", "eventId": "e-2", "anonymousId": "a-2"}]})
    report = replay(settings_for(data_dir, suppressed_ids_file=str(listed)))
    assert report.refused == {"suppressed": 1}
    assert [event["eventId"] for event in read_events(data_dir)] == ["e-2"]


def test_a_suppressed_letter_is_never_replayed(data_dir):
    letter(data_dir, events_body("signup", "e-1"), code="suppressed", status=403)
    report = replay(settings_for(data_dir))
    assert report.never == {"suppressed": 1}
    assert read_events(data_dir) == []
