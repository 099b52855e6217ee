"""The Segment mapping as pure functions: a request body -> the core to validate and the events to store."""

import pytest

from collector.errors import CollectorError
from collector.ingest.segment import map_request

SENT_AT = "2026-01-31T12:00:00.000Z"


def test_a_batch_maps_to_the_collectors_request_shape_and_its_events():
    message = {"type": "track", "event": "Order Completed", "messageId": "m1", "userId": "u", "anonymousId": None,
               "writeKey": "k" * 20, "sentAt": "2026-01-31T11:00:00.000Z", "_metadata": {"a": 1}}
    mapped = map_request({"batch": [message], "sentAt": SENT_AT, "writeKey": "k" * 20})
    assert mapped.core == {
        "messageBody": [{"eventType": "Order Completed", "eventId": "m1", "userId": "u"}],
        "messageheader": {"sentAt": SENT_AT},
    }
    # A message's own sentAt is kept as sent; the key and the null core field are not.
    assert mapped.events == [{"eventType": "Order Completed", "eventId": "m1", "type": "track",
                              "event": "Order Completed", "userId": "u", "sentAt": "2026-01-31T11:00:00.000Z",
                              "_metadata": {"a": 1}}]


def test_a_single_calls_sent_at_is_the_requests_and_its_type_comes_from_the_path():
    mapped = map_request({"userId": "u", "sentAt": SENT_AT, "writeKey": "k" * 20}, "identify")
    assert mapped.core == {"messageBody": [{"eventType": "identify", "userId": "u"}],
                           "messageheader": {"sentAt": SENT_AT}}
    assert mapped.events == [{"eventType": "identify", "userId": "u", "type": "identify"}]


def test_without_a_message_id_no_event_id_is_mapped():
    assert "eventId" not in map_request({"batch": [{"type": "page"}]}).events[0]


@pytest.mark.parametrize("body", [{"batch": [{"type": "page", "client": {}}]}, {"batch": [[]]}, {"batch": {}}])
def test_what_is_not_a_segment_message_is_refused(body):
    with pytest.raises(CollectorError) as refused:
        map_request(body)
    assert refused.value.status == 400
