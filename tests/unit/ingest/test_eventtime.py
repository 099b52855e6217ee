"""Event times: corrected for the client's clock skew past a threshold, flagged when odd."""

from __future__ import annotations

import pytest

from collector.ingest.eventtime import TimeRules, client_skew, format_time, parse_time, time_fields

RULES = TimeRules(skew_threshold_seconds=60, max_age_seconds=30 * 86400)
RECEIVED = parse_time("2026-12-03T12:00:00.000Z")


def test_times_parse_with_offsets_and_nine_fraction_digits():
    assert parse_time("2026-12-03T13:00:00.000000001+01:00") == RECEIVED
    assert parse_time("2026-12-03t12:00:00z") == RECEIVED
    assert format_time(RECEIVED + 0.25) == "2026-12-03T12:00:00.250Z"


@pytest.mark.parametrize(
    "sent_at, skew",
    [
        ("2026-12-03T12:00:00Z", None),  # no skew
        ("2026-12-03T11:59:01Z", None),  # 59 s: network delay, not skew
        ("2026-12-03T11:58:59Z", 61.0),
        ("2026-12-03T14:00:00Z", -7200.0),  # a clock two hours ahead
    ],
)
def test_a_skew_counts_only_past_the_threshold(sent_at, skew):
    assert client_skew({"sentAt": sent_at}, RECEIVED, RULES) == skew


def test_no_sent_at_means_no_correction():
    assert client_skew({"appVersion": "1"}, RECEIVED, RULES) is None
    assert client_skew(None, RECEIVED, RULES) is None


def test_a_corrected_event_keeps_what_the_client_said_and_the_skew():
    event = {"eventType": "a", "timestamp": "2026-12-03T13:59:30.500+00:00"}
    fields = time_fields(event, -7200.0, RECEIVED, RULES)
    assert fields == {
        "timestamp": "2026-12-03T11:59:30.500Z",
        "originalTimestamp": "2026-12-03T13:59:30.500+00:00",
        "clockSkewSeconds": -7200.0,
    }


def test_events_far_in_the_future_or_too_old_are_flagged_not_dropped():
    future = {"timestamp": "2026-12-03T13:00:01Z"}
    old = {"timestamp": "2026-11-03T11:59:59Z"}
    assert time_fields(future, None, RECEIVED, RULES) == {"timestampFlag": "future"}
    assert time_fields(old, None, RECEIVED, RULES) == {"timestampFlag": "old"}
    assert time_fields({"timestamp": "2026-12-03T12:59:59Z"}, None, RECEIVED, RULES) is None
    # Corrected first, then judged: a skewed clock alone does not flag an event.
    assert time_fields(future, -3600.0, RECEIVED, RULES)["timestamp"] == "2026-12-03T12:00:01.000Z"
    assert "timestampFlag" not in time_fields(future, -3600.0, RECEIVED, RULES)


def test_an_event_without_a_timestamp_is_left_alone():
    assert time_fields({"eventType": "a"}, 3600.0, RECEIVED, RULES) is None


def test_the_string_shortcut_judges_every_time_as_parsing_does():
    from collector.ingest.eventtime import RequestTime

    times = RequestTime(None, format_time(RECEIVED), RULES)
    edges = (RECEIVED - RULES.max_age_seconds, RECEIVED + RULES.future_seconds, RECEIVED)
    for edge in edges:
        for offset in (-2, -1.001, -1, -0.999, -0.001, 0, 0.001, 0.999, 1, 1.001, 2):
            event = {"timestamp": format_time(edge + offset)}
            assert times.fields(event) == time_fields(event, None, RECEIVED, RULES), event


def test_a_correction_past_what_rfc_3339_can_write_keeps_the_time_as_sent_flagged():
    # A clock an hour behind (skew +3600) would take year 9999 to year 10000.
    assert time_fields({"timestamp": "9999-12-31T23:59:59.999Z"}, 3600.0, RECEIVED, RULES) == {
        "timestampFlag": "future"
    }
    assert time_fields({"timestamp": "0001-01-01T00:30:00Z"}, -3600.0, RECEIVED, RULES) == {"timestampFlag": "old"}
    # Before year 1 in UTC as sent, and corrected by a skew: still not written, still flagged.
    assert time_fields({"timestamp": "0001-01-01T00:00:00+01:00"}, 61.0, RECEIVED, RULES) == {"timestampFlag": "old"}


LEAP = "2016-12-31T23:59:60Z"
AFTER_LEAP = parse_time("2017-01-01T00:00:05Z")


@pytest.mark.parametrize(
    "sent, stored",
    [
        (LEAP, "2016-12-31T23:59:59.999Z"),
        ("2016-12-31T23:59:60.5Z", "2016-12-31T23:59:59.999Z"),
        ("2016-12-31T15:59:60-08:00", "2016-12-31T23:59:59.999Z"),
    ],
)
def test_a_leap_second_is_stored_as_the_last_millisecond_of_its_minute_keeping_what_was_sent(sent, stored):
    assert time_fields({"timestamp": sent}, None, AFTER_LEAP, RULES) == {"timestamp": stored, "originalTimestamp": sent}


def test_a_leap_second_is_corrected_like_any_time():
    fields = time_fields({"timestamp": LEAP}, 3600.0, AFTER_LEAP, RULES)
    assert fields == {"timestamp": "2017-01-01T00:59:59.999Z", "originalTimestamp": LEAP, "clockSkewSeconds": 3600.0}


def test_a_leap_second_sent_at_gives_the_skew_of_the_last_millisecond():
    assert client_skew({"sentAt": LEAP}, AFTER_LEAP + 60, RULES) == pytest.approx(65.001)


def test_the_string_shortcut_judges_a_leap_second_as_parsing_does():
    from collector.ingest.eventtime import RequestTime

    times = RequestTime(None, format_time(AFTER_LEAP), RULES)
    for sent in (LEAP, "2016-12-31T23:59:60.000Z", "2016-12-31T23:59:60.999Z"):
        assert times.fields({"timestamp": sent}) == time_fields({"timestamp": sent}, None, AFTER_LEAP, RULES)
