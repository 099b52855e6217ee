"""A time range from the console's API: instants, and the series' window within the counts kept."""

from __future__ import annotations

import pytest

from collector.console.timerange import instant, series_window
from collector.errors import CollectorError

NOW = 1_796_000_000.0  # 2026-11-30T00:53:20Z
DAY, WEEK = 86_400, 7 * 86_400


def test_an_instant_is_unix_seconds_or_iso_8601_with_a_zone():
    assert instant("from", "1796000000") == NOW
    assert instant("from", "2026-11-30T00:53:20Z") == NOW
    assert instant("from", "2026-11-30T01:53:20+01:00") == NOW
    assert instant("from", "2026-11-30T00:53:20.500Z") == NOW + 0.5


@pytest.mark.parametrize("raw", ["yesterday", "2026-11-30T00:53:20", "-5", "1e9", "٣"])
def test_a_bad_instant_says_what_to_write(raw):
    with pytest.raises(CollectorError) as raised:
        instant("from", raw)
    assert raised.value.code == "invalid_query"
    assert "from must be" in raised.value.message


def test_a_day_or_less_is_by_the_minute_longer_by_the_hour():
    # From the bucket that holds `from` to the one that holds `to`: NOW is 20 s into its minute.
    assert series_window(NOW - 3600, NOW, NOW) == (61, 60, NOW)
    assert series_window(NOW - 3600 + 30, NOW - 30, NOW) == (60, 60, NOW - 30)
    assert series_window(NOW - DAY, NOW - 60, NOW) == (1440, 60, NOW - 60)
    # NOW is 3,200 s into its hour: 169 hours.
    assert series_window(NOW - WEEK, NOW, NOW) == (169 * 60, 3600, NOW)


@pytest.mark.parametrize(
    ("since", "until", "says"),
    [
        (NOW - DAY - 3720, NOW - 7200, "the last 25 hours"),
        (NOW - WEEK - 7200, NOW - 7200, "the last 169 hours"),
        (NOW - WEEK - 7200, NOW, "at most 7 days"),
        (NOW, NOW - 60, "before"),
        (NOW - 60, NOW + 7200, "future"),
    ],
)
def test_a_range_outside_the_counts_kept_is_an_invalid_query(since, until, says):
    with pytest.raises(CollectorError) as raised:
        series_window(since, until, NOW)
    assert raised.value.code == "invalid_query"
    assert says in raised.value.message
