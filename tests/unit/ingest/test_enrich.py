import json

import orjson
import pytest

from collector.errors import CollectorError
from collector.ingest.enrich import encode_record, stored_lines
from collector.ingest.facts import RequestFacts
from collector.jsontext import MAX_DEPTH

FACTS = RequestFacts(
    ping_id="c523aa41-9f0f-4fc2-bc96-5a8ff5520b78",
    received_at="2026-11-26T04:56:52.123Z",
    client_ip="203.0.113.7",
    user_agent="agent/1",
)


def records(events, header=None, max_event_bytes=32768):
    return [orjson.loads(line) for line in stored_lines(events, header, FACTS, max_event_bytes)]


def test_records_keep_the_event_and_add_the_server_fields():
    events = [{"eventType": "a", "eventId": "mine", "properties": {"k": 1}}, {"eventType": "b"}]
    header = {"appVersion": "1"}
    first, second = records(events, header)
    assert list(first.items()) == [
        ("eventType", "a"),
        ("eventId", "mine"),
        ("properties", {"k": 1}),
        ("pingId", FACTS.ping_id),
        ("receivedAt", FACTS.received_at),
        ("messageheader", header),
        ("client", {"ip": "203.0.113.7", "userAgent": "agent/1"}),
    ]
    assert list(second) == ["eventType", "eventId", "pingId", "receivedAt", "messageheader", "client"]
    assert second["eventId"] != first["eventId"] and len(second["eventId"]) == 36
    assert events[1] == {"eventType": "b"}, "the validated event is not changed in place"


def test_records_without_a_header_have_no_messageheader():
    [record] = records([{"eventType": "a"}])
    assert "messageheader" not in record


def test_big_numbers_in_events_and_header_are_stored_exactly():
    events = [{"eventType": "a", "properties": {"n": 2**70}}, {"eventType": "b"}]
    lines = stored_lines(events, {"h": 2**65}, FACTS, 1000)
    assert all(line.endswith(b"}\n") and line.count(b"\n") == 1 for line in lines)
    first, second = (json.loads(line) for line in lines)
    assert first["properties"] == {"n": 2**70}
    assert first["messageheader"] == second["messageheader"] == {"h": 2**65}


def test_a_stored_line_is_one_line_of_utf8_json():
    record = {"eventType": "a", "text": "naïve\n\u2028\u2029\x00 \"quoted\"", "n": 1.5}
    line = encode_record(record)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert "naïve".encode() in line, "no ASCII escaping needed"
    assert orjson.loads(line) == record


@pytest.mark.parametrize("value", [2**64, -(2**63) - 1, 123456789012345678901234567890])
def test_integers_beyond_64_bits_are_stored_exactly(value):
    line = encode_record({"eventType": "a", "big": value})
    assert line == b'{"eventType":"a","big":' + str(value).encode() + b"}\n"


def record_nested(levels: int, **more) -> dict:
    """A record whose containers nest `levels` deep, the record itself included."""
    nested = current = {}
    for _ in range(levels - 2):
        current["a"] = {}
        current = current["a"]
    return {"eventType": "a", "properties": nested, **more}


@pytest.mark.parametrize("more", [{}, {"big": 2**64}], ids=["orjson", "exact"])
def test_a_record_nested_up_to_the_stored_limit_is_stored(more):
    line = encode_record(record_nested(MAX_DEPTH, **more))
    assert line.count(b"{") == MAX_DEPTH and line.endswith(b"}\n")


@pytest.mark.parametrize("more", [{}, {"big": 2**64}], ids=["orjson", "exact"])
def test_a_record_nested_past_the_stored_limit_is_refused_by_both_writers(more):
    with pytest.raises(CollectorError) as caught:
        encode_record(record_nested(MAX_DEPTH + 1, **more))
    assert (caught.value.code, caught.value.message) == ("nesting_too_deep", "event is nested too deeply to store")


def test_an_event_over_the_size_limit_is_named():
    events = [{"eventType": "a", "eventId": "1"}, {"eventType": "b", "eventId": "2", "blob": "x" * 100}]
    size = len(stored_lines(events[1:], None, FACTS, 10_000)[0]) - 1
    with pytest.raises(CollectorError) as caught:
        stored_lines(events, None, FACTS, max_event_bytes=size - 1)
    assert caught.value.code == "event_too_large"
    assert caught.value.message == f"event 1 is {size} bytes as stored; the limit is {size - 1} bytes"
    assert caught.value.details == {"messageBody": {"1": ["Event too large."]}}


def test_an_event_exactly_at_the_limit_is_stored():
    event = {"eventType": "a", "eventId": "1"}
    size = len(stored_lines([event], None, FACTS, 10_000)[0]) - 1
    assert len(stored_lines([event], None, FACTS, max_event_bytes=size)) == 1
