"""Event times through the app: what a skewed client's events look like on disk."""

from __future__ import annotations

import time

from collector.ingest.eventtime import format_time, parse_time
from tests.app.helpers import post, stored


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


def test_a_time_a_correction_would_take_past_year_9999_or_before_year_1_is_stored_as_sent_flagged(app, client):
    # It was a 500 (year 10000 is out of range), which clients do not resend: the batch was lost.
    now = time.time()
    late, early = "9999-12-31T23:59:59.999Z", "0001-01-01T00:00:00Z"
    behind = {
        "messageheader": {"sentAt": format_time(now - 3600)},
        "messageBody": [{"eventType": "a", "timestamp": late}],
    }
    ahead = {
        "messageheader": {"sentAt": format_time(now + 3600)},
        "messageBody": [{"eventType": "b", "timestamp": early}],
    }
    assert post(client, behind).status_code == 201
    assert post(client, ahead).status_code == 201
    stored_late, stored_early = stored(app)
    assert (stored_late["timestamp"], stored_late["timestampFlag"]) == (late, "future")
    assert (stored_early["timestamp"], stored_early["timestampFlag"]) == (early, "old")
    assert not {"originalTimestamp", "clockSkewSeconds"} & (stored_late.keys() | stored_early.keys())


def test_a_leap_second_is_accepted_and_stored_as_the_last_millisecond_of_its_minute(app, client):
    leap = "2016-12-31T23:59:60Z"
    assert post(client, {"messageBody": [{"eventType": "a", "timestamp": leap}]}).status_code == 201
    assert post(client, {"messageheader": {"sentAt": leap}, "messageBody": [{"eventType": "b"}]}).status_code == 201
    event, _ = stored(app)
    assert (event["timestamp"], event["originalTimestamp"]) == ("2016-12-31T23:59:59.999Z", leap)


def test_the_longest_age_setting_judges_events_without_error(make_app):
    # COLLECTOR_MAX_EVENT_AGE_DAYS=1000000 once passed, then every event with a timestamp got 500.
    app = make_app(max_event_age_days="36500")
    times = [format_time(time.time() - 36501 * 86400), format_time(time.time() - 86400)]
    body = {"messageBody": [{"eventType": "a", "timestamp": when} for when in times]}
    assert post(app.test_client(), body).status_code == 201
    assert [event.get("timestampFlag") for event in stored(app)] == ["old", None]
