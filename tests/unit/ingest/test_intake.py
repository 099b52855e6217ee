from pathlib import Path

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


# The tracking plan: checked after the envelope, before enrichment (docs/tracking-plan.md).

SHOP = Path(__file__).parents[1] / "plan" / "data" / "shop.json"


def checked(built, payload):
    """The data path's steps up to the plan's: the envelope, then the plan (the bot step between needs a request)."""
    return built.check_plan(built.validate(payload)["messageBody"])


def checked_segment(built, payload, call):
    return built.check_segment_plan(built.segment(payload, call, b"{}"), call)
GOOD_VIEW = {"eventType": "product_viewed", "properties": {"sku": "A1", "price": 9.5, "currency": "EUR"}}
BAD_VIEW = {"eventType": "product_viewed", "properties": {"price": "9.50", "currency": "EUR"}}
BAD_VIEW_DETAILS = {
    "/properties/price": ["expected number, got string"],
    "/properties/sku": ["required property missing"],
}


def test_refuse_mode_refuses_a_request_with_an_event_breaking_the_plan_with_pointers(tmp_path):
    built = intake(tmp_path, tracking_plan=str(SHOP), tracking_plan_mode="refuse")
    assert checked(built, {"messageBody": [GOOD_VIEW]}) == [GOOD_VIEW]
    with pytest.raises(CollectorError) as caught:
        checked(built, {"messageBody": [GOOD_VIEW, BAD_VIEW]})
    assert (caught.value.status, caught.value.code) == (400, "tracking_plan_violation")
    assert caught.value.details == {"messageBody": {"1": BAD_VIEW_DETAILS}}
    message = "messageBody[1] breaks the tracking plan: /properties/price: expected number, got string"
    assert caught.value.message == message


def test_the_envelope_is_checked_before_the_plan(tmp_path):
    built = intake(tmp_path, tracking_plan=str(SHOP), tracking_plan_mode="refuse")
    with pytest.raises(CollectorError) as caught:
        checked(built, {"messageBody": [BAD_VIEW, {"eventType": "page_view", "unknown": 1}]})
    assert caught.value.code == "unknown_field"


def test_flag_mode_marks_each_event_breaking_the_plan_and_leaves_the_payload_as_sent(tmp_path):
    built = intake(tmp_path, tracking_plan=str(SHOP))
    payload = {"messageBody": [GOOD_VIEW, BAD_VIEW, {"eventType": "not_in_plan"}]}
    events = checked(built, payload)
    assert events[0] == GOOD_VIEW
    assert events[1] == {
        **BAD_VIEW,
        "planViolations": [
            {"path": "/properties/price", "message": "expected number, got string"},
            {"path": "/properties/sku", "message": "required property missing"},
        ],
    }
    assert events[2]["planViolations"] == [{"path": "/eventType", "message": "not an event type of the tracking plan"}]
    assert "planViolations" not in payload["messageBody"][1], "the payload (a fingerprint's) is left as sent"
    [line] = built.lines([events[1]], None, FACTS)
    assert orjson.loads(line)["planViolations"][0]["path"] == "/properties/price"


def test_without_a_plan_nothing_is_checked(tmp_path):
    assert checked(intake(tmp_path), {"messageBody": [BAD_VIEW]}) == [BAD_VIEW]


def test_segment_messages_are_checked_and_refused_in_segment_words(tmp_path):
    built = intake(tmp_path, tracking_plan=str(SHOP), tracking_plan_mode="refuse")
    good = {"type": "track", "event": "product_viewed", "userId": "u1", "properties": GOOD_VIEW["properties"]}
    bad = {**good, "properties": BAD_VIEW["properties"]}
    assert len(checked_segment(built, {"batch": [good]}, None).events) == 1
    with pytest.raises(CollectorError) as caught:
        checked_segment(built, {"batch": [good, bad]}, None)
    assert caught.value.code == "tracking_plan_violation"
    assert caught.value.details == {"batch": {"1": BAD_VIEW_DETAILS}}
    assert caught.value.message.startswith("batch[1] breaks the tracking plan: ")
    with pytest.raises(CollectorError) as caught:
        checked_segment(built, bad, "track")
    assert caught.value.details == BAD_VIEW_DETAILS
    assert caught.value.message.startswith("the message breaks the tracking plan: ")


def test_segment_messages_are_flagged_in_flag_mode(tmp_path):
    built = intake(tmp_path, tracking_plan=str(SHOP))
    page = checked_segment(built, {"type": "page", "userId": "u1"}, "page")
    assert [event["eventType"] for event in page.events] == ["page"]
    assert page.events[0]["planViolations"][0]["path"] == "/eventType"  # otherEventTypes: refuse


def test_a_flagged_event_is_never_refused_for_the_bytes_its_violations_add(tmp_path):
    # Flag mode refuses nothing: the limit is on the event as sent plus what the server adds, not on the note.
    built = intake(tmp_path, tracking_plan=str(SHOP), max_event_bytes="600")
    [unflagged] = built.lines([{"eventType": "page_view", "properties": {"path": "/"}}], None, FACTS)
    room = 600 - (len(unflagged) - 1)  # bytes the path may grow by
    near_the_limit = {"eventType": "page_view", "properties": {"path": "/" + "x" * room}}
    [line] = built.lines([near_the_limit], None, FACTS)
    assert len(line) - 1 == 600
    flagged = {"eventType": "page_view", "properties": {"path": "x" * (room + 1)}}  # no leading '/': flagged
    [event] = checked(built, {"messageBody": [flagged]})
    [line] = built.lines([event], None, FACTS)
    assert len(line) - 1 > 600 and orjson.loads(line)["planViolations"][0]["path"] == "/properties/path"
    with pytest.raises(CollectorError) as caught:  # one byte more of the client's own is still too large
        built.lines([{**event, "properties": {"path": "x" * (room + 2)}}], None, FACTS)
    assert caught.value.code == "event_too_large"


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


def test_a_bot_is_refused_before_the_plan_is_checked(tmp_path):
    # The data path's order (views.collect_event): envelope, bots, plan. A refused bot's request breaking the
    # plan too gets the bot's 403, so that COLLECTOR_BOTS=refuse says the same whatever the plan.
    built = intake(tmp_path, bots="refuse", tracking_plan=str(SHOP), tracking_plan_mode="refuse")
    events = built.validate({"messageBody": [BAD_VIEW]})["messageBody"]
    with pytest.raises(CollectorError) as caught:
        built.bots(events, GOOGLEBOT)
    assert caught.value.code == "bot_refused"
    with pytest.raises(CollectorError) as caught:
        built.check_plan(events)
    assert caught.value.code == "tracking_plan_violation"


def test_accept_takes_a_body_through_every_check_in_order_and_hands_on_what_the_lines_need(tmp_path):
    built = intake(tmp_path, bots="flag", tracking_plan=str(SHOP))
    accepted = built.accept({"messageheader": {"appVersion": "1.0"}, "messageBody": [GOOD_VIEW, BAD_VIEW]}, GOOGLEBOT)
    assert accepted.header == {"appVersion": "1.0"}
    assert accepted.events[0] == GOOD_VIEW and "planViolations" in accepted.events[1]  # the plan's flag mode
    lines = built.lines(accepted.events, accepted.header, FACTS, accepted.bots)
    assert [orjson.loads(line)["client"]["bot"]["name"] for line in lines] == ["Googlebot", "Googlebot"]
    refusing = intake(tmp_path, bots="refuse", tracking_plan=str(SHOP), tracking_plan_mode="refuse")
    with pytest.raises(CollectorError) as caught:
        refusing.accept({"messageBody": [BAD_VIEW]}, GOOGLEBOT)
    assert caught.value.code == "bot_refused", "the bot step comes before the plan's"
