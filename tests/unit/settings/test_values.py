"""Kinds of setting values: whole numbers, rate limits, event types, the smallest event size."""

from __future__ import annotations

import uuid

import pytest

from collector.ingest.enrich import stored_lines
from collector.ingest.facts import RequestFacts, format_received_at
from collector.settings import SettingsError, load_settings
from collector.settings.values import MIN_EVENT_BYTES


def _smallest_stored_event(client_ip=None, user_agent=None) -> int:
    facts = RequestFacts(str(uuid.uuid4()), format_received_at(0), client_ip, user_agent)
    [line] = stored_lines([{"eventType": "a"}], None, facts, max_event_bytes=10**6)
    return len(line) - 1  # as the size limit counts it: without the newline


def test_the_event_size_floor_is_above_the_smallest_event_the_service_stores():
    assert _smallest_stored_event() == 192  # as the message for a smaller COLLECTOR_MAX_EVENT_BYTES says
    assert _smallest_stored_event("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "curl/8.5.0") <= MIN_EVENT_BYTES
    assert load_settings(environ={"COLLECTOR_MAX_EVENT_BYTES": str(MIN_EVENT_BYTES)}).max_event_bytes == MIN_EVENT_BYTES


@pytest.mark.parametrize(
    "variable, raw, value",
    [
        ("COLLECTOR_MAX_EVENTS", " 007 ", 7),
        ("COLLECTOR_TRUSTED_PROXIES", "0", 0),
        ("COLLECTOR_ROTATE_SECONDS", "1.5", 1.5),
        ("COLLECTOR_CLOCK_SKEW_SECONDS", ".5", 0.5),
        ("COLLECTOR_ROTATE_SECONDS", "60.", 60.0),
        ("COLLECTOR_RETENTION_DAYS", " ", None),
        ("COLLECTOR_RATE_LIMIT", " 1 per 2 seconds ", "1 per 2 seconds"),
        ("COLLECTOR_RATE_LIMIT", "10 per 1 minute;100/hour", "10 per 1 minute;100/hour"),
        ("COLLECTOR_EVENT_TYPES", "", frozenset()),
        ("COLLECTOR_EVENT_TYPES", "   ", frozenset()),
        ("COLLECTOR_EVENT_TYPES", "a,,b,", frozenset({"a", "b"})),
    ],
)
def test_well_written_values_are_read(variable, raw, value):
    settings = load_settings(environ={variable: raw})
    assert getattr(settings, variable.removeprefix("COLLECTOR_").lower()) == value


@pytest.mark.parametrize("raw", ["0", "0.001", "1.5", "10", "1e0", "-1", "", "inf"])
def test_the_idempotency_timeout_stays_well_under_a_proxys_timeout(raw):
    with pytest.raises(SettingsError, match=r"COLLECTOR_IDEMPOTENCY_TIMEOUT.*a number of seconds from 0.01 to 1"):
        load_settings(environ={"COLLECTOR_IDEMPOTENCY_TIMEOUT": raw})
    assert load_settings(environ={"COLLECTOR_IDEMPOTENCY_TIMEOUT": " 1 "}).idempotency_timeout == 1.0
    assert load_settings(environ={}).idempotency_timeout == 0.5
