"""Every numeric setting has a lowest and a highest value the code can honour, said not valid past them in one line."""

from __future__ import annotations

import dataclasses

import pytest

from collector.settings import Settings, SettingsError, load_settings

# (variable, lowest, highest, just below, just above, what the message says it expects)
BOUNDS = [
    ("COLLECTOR_RATE_LIMIT_IPV6_PREFIX", "1", "128", "0", "129", "a prefix length from 1 to 128"),
    ("COLLECTOR_RATE_LIMIT_TIMEOUT", "0.001", "2", "0.0009", "2.001", "a number of seconds from 0.001 to 2"),
    ("COLLECTOR_TRUSTED_PROXIES", "0", "16", None, "17", "a whole number from 0 to 16"),
    ("COLLECTOR_MAX_BODY_BYTES", "1", "67108864", "0", "67108865", "a whole number from 1 to 67108864"),
    ("COLLECTOR_MAX_EVENTS", "1", "100000", "0", "100001", "a whole number from 1 to 100000"),
    (
        "COLLECTOR_MAX_EVENT_BYTES", "256", "67108864", "255", "67108865",
        "a whole number from 256 to 67108864 (the smallest event is 192 bytes as stored)",
    ),
    ("COLLECTOR_IDEMPOTENCY_SECONDS", "1", "31536000", "0.999", "31536000.1", "a number of seconds from 1 to 31536000"),
    ("COLLECTOR_IDEMPOTENCY_TIMEOUT", "0.01", "1", "0.009", "1.001", "a number of seconds from 0.01 to 1"),
    ("COLLECTOR_DEAD_LETTER_MAX_BODY_BYTES", "1", "67108864", "0", "67108865", "a whole number from 1 to 67108864"),
    (
        "COLLECTOR_DEAD_LETTER_MAX_BYTES", "1", "1099511627776", "0", "1099511627777",
        "a whole number from 1 to 1099511627776",
    ),
    (
        "COLLECTOR_CLOCK_SKEW_SECONDS", "0.001", "31536000", "0", "31536001",
        "a number of seconds from 0.001 to 31536000",
    ),
    ("COLLECTOR_MAX_EVENT_AGE_DAYS", "0.001", "36500", "0", "1000000", "a number of days from 0.001 to 36500"),
    ("COLLECTOR_ROTATE_BYTES", "1", "1099511627776", "0", "1099511627777", "a whole number from 1 to 1099511627776"),
    ("COLLECTOR_ROTATE_SECONDS", "1", "31536000", "0.999", "31536001", "a number of seconds from 1 to 31536000"),
    ("COLLECTOR_FSYNC_SECONDS", "0.01", "60", "0.000001", "61", "a number of seconds from 0.01 to 60"),
    (
        "COLLECTOR_RETENTION_DAYS", "0.001", "36500", "0", "36501",
        "empty (off) or a number of days from 0.001 to 36500",
    ),
    (
        "COLLECTOR_RETENTION_BYTES", "1", "1099511627776", "0", "1099511627777",
        "empty (off) or a whole number from 1 to 1099511627776",
    ),
    ("COLLECTOR_WORKERS", "1", "256", "0", "257", "'auto' or a whole number from 1 to 256"),
    ("COLLECTOR_THREADS", "1", "256", "0", "257", "a whole number from 1 to 256"),
]


def _field(variable: str) -> str:
    return variable.removeprefix("COLLECTOR_").lower()


def test_every_numeric_setting_has_its_bounds_tested():
    numeric = {
        "COLLECTOR_" + field.name.upper()
        for field in dataclasses.fields(Settings)
        if "int" in str(field.type) or "float" in str(field.type)
    }
    assert numeric == {row[0] for row in BOUNDS}


@pytest.mark.parametrize("variable, lowest, highest, below, above, expected", BOUNDS)
def test_the_lowest_and_highest_values_are_accepted(variable, lowest, highest, below, above, expected):
    assert getattr(load_settings(environ={variable: lowest}), _field(variable)) == float(lowest)
    assert getattr(load_settings(environ={variable: highest}), _field(variable)) == float(highest)


@pytest.mark.parametrize("variable, lowest, highest, below, above, expected", BOUNDS)
def test_values_past_the_bounds_are_said_not_valid_in_one_line(variable, lowest, highest, below, above, expected):
    for value in filter(None, (below, above)):
        with pytest.raises(SettingsError) as caught:
            load_settings(environ={variable: value})
        assert str(caught.value) == f"{variable}={value!r} is not valid: expected {expected}"


def test_a_number_too_long_for_a_float_is_not_valid_not_read_as_infinity():
    with pytest.raises(SettingsError, match=r"COLLECTOR_RATE_LIMIT_TIMEOUT='9{400}' is not valid"):
        load_settings(environ={"COLLECTOR_RATE_LIMIT_TIMEOUT": "9" * 400})



RATE_LIMIT = (
    "flask-limiter's notation with amounts from 1 to 1000000000 and periods from 1 second to 366 days, "
    "e.g. '1000 per minute' or '10/second;500/hour'"
)


@pytest.mark.parametrize(
    "raw", ["1 per second", "1000000000 per minute", "5 per year", "5 per 366 days", "1/second;5 per 12 months"]
)
def test_rate_limits_within_the_bounds_are_accepted(raw):
    assert load_settings(environ={"COLLECTOR_RATE_LIMIT": raw}).rate_limit == raw


@pytest.mark.parametrize(
    "raw",
    ["1000000001 per minute", "5 per 367 days", "5 per 2 years", "5 per 99999999999 years", "1/second;2 per 100 years"],
)
def test_rate_limits_past_the_bounds_are_not_valid(raw):
    # A window of 10^11 years gave X-RateLimit-Reset 3110400001765424128: no client can read it as a time.
    with pytest.raises(SettingsError) as caught:
        load_settings(environ={"COLLECTOR_RATE_LIMIT": raw})
    assert str(caught.value) == f"COLLECTOR_RATE_LIMIT={raw!r} is not valid: expected {RATE_LIMIT}"
