"""Event times through the app: what a skewed client's events look like on disk."""

from __future__ import annotations

import time

import orjson

from collector import service
from collector.ingest.eventtime import format_time, parse_time
from tests.servers import read_events


def post(client, body):
    return client.post("/collect/event", data=orjson.dumps(body), content_type="application/json")


def stored(app):
    service.of(app).writer.close()
    return read_events(service.of(app).settings.data_dir)


def test_a_clock_two_hours_ahead_is_corrected_and_the_original_kept(app, client):
    now = time.time()
    body = {
        "messageheader": {"sentAt": format_time(now + 7200)},
        "messageBody": [{"eventType": "a", "timestamp": format_time(now + 7190)}, {"eventType": "b"}],
    }
    assert post(client, body).status_code == 201
    corrected, untimed = stored(app)
    assert corrected["originalTimestamp"] == body["messageBody"][0]["timestamp"]
    assert -7201 < corrected["clockSkewSeconds"] < -7199
    assert abs(parse_time(corrected["timestamp"]) - (now - 10)) < 2
    assert "timestampFlag" not in corrected
    assert "originalTimestamp" not in untimed and "clockSkewSeconds" not in untimed
    assert corrected["messageheader"] == body["messageheader"], "the header is stored as sent"


def test_events_too_old_or_in_the_future_are_stored_flagged(make_app):
    app = make_app(max_event_age_days="1")
    now = time.time()
    body = {
        "messageBody": [
            {"eventType": "old", "timestamp": format_time(now - 2 * 86400)},
            {"eventType": "future", "timestamp": format_time(now + 2 * 3600)},
            {"eventType": "fine", "timestamp": format_time(now - 60)},
        ]
    }
    assert post(app.test_client(), body).status_code == 201
    assert [event.get("timestampFlag") for event in stored(app)] == ["old", "future", None]


def test_a_sent_at_that_is_not_a_time_is_refused(client):
    response = post(client, {"messageheader": {"sentAt": "yesterday"}, "messageBody": [{"eventType": "a"}]})
    assert response.status_code == 400
    assert response.json["code"] == "invalid_field"
    assert response.json["message"].startswith("messageheader.sentAt: Not an RFC 3339 date-time")
