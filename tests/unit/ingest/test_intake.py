import flask
import orjson
import pytest

from collector.errors import CollectorError
from collector.ingest.facts import RequestFacts
from collector.ingest.intake import Intake
from collector.ingest.segment import MAX_BATCH_BYTES
from collector.request import record
from collector.settings import load_settings

FACTS = RequestFacts(
    ping_id="c523aa41-9f0f-4fc2-bc96-5a8ff5520b78",
    received_at="2026-11-26T04:56:52.123Z",
    client_ip="203.0.113.7",
    user_agent="agent/1",
)


def intake(tmp_path, **overrides) -> Intake:
    return Intake.from_settings(load_settings(environ={}, overrides={"data_dir": str(tmp_path), **overrides}))


def test_it_is_built_once_from_the_settings(tmp_path):
    built = intake(tmp_path, max_events="7", max_body_bytes="2000", max_event_bytes="1500", client_ip="drop")
    assert built.validator.max_events == 7
    assert (built.max_body_bytes, built.max_event_bytes) == (2000, 1500)
    assert built.time_rules.skew_threshold_seconds == load_settings(environ={}).clock_skew_seconds


def test_validate_takes_the_settings_rules(tmp_path):
    built = intake(tmp_path, max_events="2", event_types="click")
    assert built.validate({"messageBody": [{"eventType": "click"}]})["messageBody"] == [{"eventType": "click"}]
    with pytest.raises(CollectorError) as caught:
        built.validate({"messageBody": [{"eventType": "view"}]})
    assert caught.value.code == "invalid_event_type"
    with pytest.raises(CollectorError) as caught:
        built.validate({"messageBody": [{"eventType": "click"}] * 3})
    assert caught.value.code == "too_many_events"


def test_lines_are_bounded_by_the_most_bytes_of_an_event(tmp_path):
    built = intake(tmp_path, max_event_bytes="1000")
    [line] = built.lines([{"eventType": "a"}], {"appVersion": "1"}, FACTS)
    stored = orjson.loads(line)
    assert (stored["pingId"], stored["messageheader"], stored["client"]["ip"]) == (
        FACTS.ping_id,
        {"appVersion": "1"},
        "203.0.113.7",
    )
    with pytest.raises(CollectorError) as caught:
        built.lines([{"eventType": "a", "properties": {"p": "x" * 1000}}], None, FACTS)
    assert (caught.value.status, caught.value.code) == (413, "event_too_large")


def test_lines_follow_the_event_time_rules(tmp_path):
    built = intake(tmp_path, max_event_age_days="1")
    [line] = built.lines([{"eventType": "a", "timestamp": "2000-01-01T00:00:00Z"}], None, FACTS)
    assert orjson.loads(line)["timestampFlag"] == "old"


@pytest.mark.parametrize(("mode", "stored"), [("full", "203.0.113.7"), ("truncate", "203.0.113.0"), ("drop", None)])
def test_facts_keep_what_the_client_address_mode_says(tmp_path, mode, stored):
    built = intake(tmp_path, client_ip=mode)
    app = flask.Flask(__name__)
    with app.test_request_context(
        "/collect/event", method="POST", environ_base={"REMOTE_ADDR": "203.0.113.7"}, headers={"User-Agent": "agent/1"}
    ):
        record.current().ping_id = "ping-1"
        record.current().key_id = "0123abcd"
        facts = built.facts(flask.request)
    assert (facts.ping_id, facts.client_ip, facts.user_agent, facts.key_id) == ("ping-1", stored, "agent/1", "0123abcd")


def test_a_segment_batch_is_mapped_and_validated_as_the_collector_own(tmp_path):
    built = intake(tmp_path, event_types="Signed Up")
    body = {"batch": [{"type": "track", "event": "Signed Up", "userId": "u1", "messageId": "m1"}]}
    mapped = built.segment(body, None, b"x" * 100)
    assert [event["eventType"] for event in mapped.events] == ["Signed Up"]
    with pytest.raises(CollectorError) as caught:
        built.segment({"batch": [{"type": "track", "event": "Other", "userId": "u1"}]}, None, b"x" * 100)
    assert caught.value.code == "invalid_event_type"
    with pytest.raises(CollectorError) as caught:
        long_id = {"type": "track", "event": "Signed Up", "userId": "u1", "messageId": "m" * 200}
        built.segment({"batch": [long_id]}, None, b"x" * 100)
    assert caught.value.message.startswith("batch[0].messageId: "), "the error in Segment's words"


def test_a_segment_body_over_segment_limit_or_ours_is_too_large(tmp_path):
    built = intake(tmp_path, max_body_bytes="1000")
    with pytest.raises(CollectorError) as caught:
        built.segment({"batch": []}, None, b"x" * 1001)
    assert (caught.value.status, caught.value.message) == (413, "request body is larger than 1000 bytes")
    roomy = intake(tmp_path, max_body_bytes=str(2 * MAX_BATCH_BYTES))
    with pytest.raises(CollectorError) as caught:
        roomy.segment({"batch": []}, None, b"x" * (MAX_BATCH_BYTES + 1))
    assert caught.value.message == f"request body is larger than {MAX_BATCH_BYTES} bytes"


GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def test_lines_carry_the_bot_the_bot_step_found(tmp_path):
    built = intake(tmp_path)
    events = [{"eventType": "a"}, {"eventType": "b", "context": {"webdriver": True}}]
    crawler = built.bots(events, GOOGLEBOT)
    assert [orjson.loads(line)["client"]["bot"] for line in built.lines(events, None, FACTS, crawler)] == [
        {"name": "Googlebot", "category": "crawler"}
    ] * 2
    lines = built.lines(events, None, FACTS, built.bots(events, "agent/1"))
    person, driven = (orjson.loads(line)["client"] for line in lines)
    assert "bot" not in person and driven["bot"] == {"name": "WebDriver", "category": "headless"}


@pytest.mark.parametrize(("mode", "bot"), [("flag", True), ("off", False)])
def test_the_bots_setting_decides_whether_events_are_flagged(tmp_path, mode, bot):
    built = intake(tmp_path, bots=mode)
    [line] = built.lines([{"eventType": "a"}], None, FACTS, built.bots([{"eventType": "a"}], GOOGLEBOT))
    assert ("bot" in orjson.loads(line)["client"]) is bot


def test_refuse_mode_refuses_a_bot_before_anything_is_stored(tmp_path):
    with pytest.raises(CollectorError) as caught:
        intake(tmp_path, bots="refuse").bots([{"eventType": "a"}], GOOGLEBOT)
    assert (caught.value.status, caught.value.code) == (403, "bot_refused")


def test_a_team_patterns_make_custom_bots(tmp_path):
    built = intake(tmp_path, bot_patterns="^agent/")
    [line] = built.lines([{"eventType": "a"}], None, FACTS, built.bots([{"eventType": "a"}], FACTS.user_agent))
    assert orjson.loads(line)["client"]["bot"] == {"name": "agent/", "category": "custom"}
