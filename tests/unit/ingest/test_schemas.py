import pytest

from collector.errors import CollectorError
from collector.ingest.schemas import RequestValidator

SCHEMA = RequestValidator(max_events=5, event_types=frozenset())


def load(body, schema=SCHEMA):
    return schema.validate(body)


def refused(body, schema=SCHEMA) -> CollectorError:
    with pytest.raises(CollectorError) as caught:
        load(body, schema)
    return caught.value


def one(**event):
    return {"messageBody": [event]}


def test_a_full_event_loads_as_sent():
    event = {
        "eventType": "checkout",
        "eventId": "client-key-1",
        "timestamp": "2026-11-26T04:56:52.123+01:00",
        "userId": "u" * 256,
        "anonymousId": "a",
        "sessionId": "s",
        "properties": {"cart": [1, 2.5, None, {"deep": True}]},
        "context": {"locale": "de-DE"},
    }
    header = {"appVersion": "1.0", "build": 42, "ratio": 0.5, "beta": False, "flag": None}
    assert load({"messageBody": [event], "messageheader": header}) == {
        "messageBody": [event],
        "messageheader": header,
    }


@pytest.mark.parametrize(
    "event_type",
    ["", " ", "\t\n", "x" * 129, "bad\x00type", "del\x7f", "c1\x85control", 42, None, ["a"]],
)
def test_every_bad_event_type_is_the_docs_invalid_event_type(event_type):
    error = refused(one(eventType=event_type))
    assert (error.code, error.message) == ("invalid_event_type", "invalid event type")
    assert error.details == {"messageBody": {0: {"eventType": ["invalid event type"]}}}


def test_a_missing_event_type_is_invalid_event_type():
    error = refused({"messageBody": [{"userId": "u"}]})
    assert (error.code, error.message) == ("invalid_event_type", "invalid event type")


def test_event_types_of_128_unicode_characters_are_fine():
    assert load(one(eventType="é" * 128))["messageBody"][0]["eventType"] == "é" * 128


def test_the_allow_list_refuses_other_types():
    schema = RequestValidator(5, frozenset({"click"}))
    assert load(one(eventType="click"), schema)
    error = refused(one(eventType="view"), schema)
    assert (error.code, error.message) == ("invalid_event_type", "invalid event type")


def test_invalid_event_type_wins_over_other_errors_in_the_message():
    error = refused({"messageBody": [{"eventType": "ok", "userId": 5}, {"eventType": ""}]})
    assert (error.code, error.message) == ("invalid_event_type", "invalid event type")
    assert error.details["messageBody"][0] == {"userId": ["Not a valid string."]}


@pytest.mark.parametrize(
    "timestamp",
    [
        "2026-11-26T04:56:52Z",
        "2026-11-26T04:56:52.123Z",
        "2026-11-26T04:56:52.123456789+05:30",
        "2026-11-26 04:56:52-08:00",
        "2026-11-26t04:56:52z",
    ],
)
def test_rfc3339_timestamps_with_an_offset_are_stored_as_sent(timestamp):
    assert load(one(eventType="a", timestamp=timestamp))["messageBody"][0]["timestamp"] == timestamp


@pytest.mark.parametrize(
    "timestamp",
    ["2026-11-26T04:56:52", "2026-11-26", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "yesterday", 1732597012],
)
def test_timestamps_without_offset_or_calendar_sense_are_refused(timestamp):
    error = refused(one(eventType="a", timestamp=timestamp))
    assert error.code == "invalid_field"
    assert error.message.startswith("messageBody[0].timestamp: ")


@pytest.mark.parametrize(
    "field, value",
    [
        ("eventId", ""),
        ("eventId", "x" * 129),
        ("eventId", 7),
        ("userId", "x" * 257),
        ("anonymousId", "x" * 257),
        ("sessionId", ["s"]),
        ("properties", "not an object"),
        ("context", [1, 2]),
        ("userId", None),
    ],
)
def test_optional_fields_keep_their_rules(field, value):
    error = refused(one(eventType="a", **{field: value}))
    assert error.code == "invalid_field"
    assert error.message.startswith(f"messageBody[0].{field}: ")
    assert field in error.details["messageBody"][0]


def test_an_unknown_key_in_an_event_is_named():
    error = refused({"messageBody": [{"eventType": "a"}, {"eventType": "b", "colour": "red"}]})
    assert (error.code, error.message) == ("unknown_field", "unknown field messageBody[1].colour")


def test_an_unknown_top_level_key_is_named():
    error = refused({"messageBody": [{"eventType": "a"}], "messageHeader": {}})
    assert (error.code, error.message) == ("unknown_field", "unknown field messageHeader")


@pytest.mark.parametrize(
    "body, code, message",
    [
        ({}, "invalid_field", "messageBody: Missing data for required field."),
        ({"messageBody": []}, "invalid_field", "messageBody: Length must be between 1 and 5."),
        ({"messageBody": [{"eventType": "a"}] * 6}, "too_many_events", "messageBody: Longer than maximum length 5."),
        ({"messageBody": {"eventType": "a"}}, "invalid_field", "messageBody: Not a valid list."),
        ({"messageBody": ["a"]}, "invalid_field", "messageBody[0]: Invalid input type."),
        ([{"eventType": "a"}], "not_an_object", "request body must be a JSON object with a messageBody array"),
        ("text", "not_an_object", "request body must be a JSON object with a messageBody array"),
    ],
)
def test_the_request_shape_is_checked(body, code, message):
    error = refused(body)
    assert (error.code, error.message) == (code, message)


def test_a_batch_over_max_events_is_refused_before_its_events_are_validated():
    # Every event is bad and there is an unknown key: validated, the answer
    # would be invalid_event_type. The wording is that of the pre_load hook
    # this check replaced.
    error = refused({"messageBody": [{"eventType": ""}] * 6, "surprise": 1})
    assert (error.code, error.message) == ("too_many_events", "messageBody: Longer than maximum length 5.")
    assert error.details == {"messageBody": ["Longer than maximum length 5."]}


def test_messageheader_holds_scalars_only():
    error = refused({"messageBody": [{"eventType": "a"}], "messageheader": {"nested": {"a": 1}}})
    assert error.code == "invalid_field"
    assert error.message == "messageheader.nested.value: Must be a string, number, boolean or null."


def test_messageheader_holds_at_most_64_keys():
    header = {f"k{i}": i for i in range(65)}
    error = refused({"messageBody": [{"eventType": "a"}], "messageheader": header})
    assert (error.code, error.message) == ("invalid_field", "messageheader: Longer than maximum length 64.")
    header.pop("k64")
    assert load({"messageBody": [{"eventType": "a"}], "messageheader": header})


@pytest.mark.parametrize(
    "timestamp",
    ["2016-12-31T23:59:60Z", "2016-12-31T23:59:60.999Z", "2016-12-31T15:59:60-08:00", "2015-06-30t23:59:60z",
     "9999-12-31T23:59:60Z"],
)
def test_a_leap_second_at_the_end_of_a_month_utc_is_a_valid_time(timestamp):
    assert load(one(eventType="a", timestamp=timestamp))["messageBody"][0]["timestamp"] == timestamp


@pytest.mark.parametrize(
    "timestamp", ["2016-12-31T23:58:60Z", "2016-12-30T23:59:60Z", "2016-12-31T23:59:60+01:00", "2016-12-31T23:59:61Z"]
)
def test_a_second_60_anywhere_but_a_leap_second_is_refused(timestamp):
    error = refused(one(eventType="a", timestamp=timestamp))
    assert error.message == "messageBody[0].timestamp: Not a valid calendar date and time."
