"""The expiry sent to memcached: seconds up to 30 days, the Unix time it ends at beyond."""

from __future__ import annotations

from collector.memcachedexpiry import MAX_RELATIVE_SECONDS, expire

NOW = 1_800_000_000.25


def test_up_to_thirty_days_the_expiry_is_the_whole_seconds_from_now():
    assert expire(0.2, NOW) == 1
    assert expire(3600, NOW) == 3600
    assert expire(MAX_RELATIVE_SECONDS, NOW) == MAX_RELATIVE_SECONDS


def test_past_thirty_days_the_expiry_is_the_unix_time_it_ends_at():
    assert expire(MAX_RELATIVE_SECONDS + 1, NOW) == 1_800_000_000 + MAX_RELATIVE_SECONDS + 2
    assert expire(365 * 86400, NOW) == 1_800_000_001 + 365 * 86400
