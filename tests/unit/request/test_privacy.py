"""What is kept of a client's address: full, truncated, hashed with a daily salt, or nothing."""

from __future__ import annotations

import calendar
import re

import pytest

from collector.request.privacy import DailyHash, address_shown, make_process_secret, truncated

NOON = calendar.timegm((2026, 11, 26, 12, 0, 0))
JUST_BEFORE_MIDNIGHT = calendar.timegm((2026, 11, 26, 23, 59, 59))
MIDNIGHT = calendar.timegm((2026, 11, 27, 0, 0, 0))


@pytest.mark.parametrize(
    "address, kept",
    [
        ("203.0.113.7", "203.0.113.0"),
        ("198.51.100.255", "198.51.100.0"),
        ("2001:db8:1234:5678::1", "2001:db8:1234::"),
        ("2001:DB8:1234:ffff:0:0:0:1", "2001:db8:1234::"),
        ("::ffff:203.0.113.7", "203.0.113.0"),
        ("fe80::1%eth0", "fe80::"),
        ("::1", "::"),
        (None, None),
        ("", None),
        ("unix:/run/collector.sock", None),
    ],
)
def test_truncate_keeps_the_network_only(address, kept):
    assert truncated(address) == kept
    assert address_shown("truncate")(address) == kept


def test_full_keeps_the_address_and_drop_keeps_nothing():
    assert address_shown("full")("203.0.113.7") == "203.0.113.7"
    assert address_shown("drop")("203.0.113.7") is None


def test_a_hash_is_32_hex_digits_and_the_same_all_day():
    hashed = DailyHash(b"s" * 32)
    value = hashed.at("198.51.100.77", NOON)
    assert re.fullmatch(r"[0-9a-f]{32}", value)
    assert hashed.at("198.51.100.77", JUST_BEFORE_MIDNIGHT) == value
    assert hashed.at("198.51.100.78", NOON) != value


def test_the_salt_changes_at_utc_midnight():
    hashed = DailyHash(b"s" * 32)
    assert hashed.at("198.51.100.77", MIDNIGHT) != hashed.at("198.51.100.77", JUST_BEFORE_MIDNIGHT)
    # And back: each day has its own salt, not a counter of changes.
    assert hashed.at("198.51.100.77", NOON) == DailyHash(b"s" * 32).at("198.51.100.77", NOON)


def test_one_address_however_written_hashes_alike():
    hashed = DailyHash(b"s" * 32)
    forms = ["2001:db8:1234:5678::1", "2001:DB8:1234:5678:0:0:0:1", "2001:0db8:1234:5678:0000:0000:0000:0001"]
    assert len({hashed.at(form, NOON) for form in forms}) == 1
    assert hashed.at("::ffff:198.51.100.77", NOON) == hashed.at("198.51.100.77", NOON)


def test_another_secret_hashes_differently():
    assert DailyHash(b"a" * 32).at("198.51.100.77", NOON) != DailyHash(b"b" * 32).at("198.51.100.77", NOON)


def test_what_is_not_an_address_hashes_to_nothing():
    assert DailyHash(b"s" * 32).at("not an address", NOON) is None
    assert DailyHash(b"s" * 32).at(None, NOON) is None


def test_the_process_secret_is_made_once_and_kept():
    assert make_process_secret() == make_process_secret()
    assert len(make_process_secret()) == 32
    hashed = address_shown("hash")
    assert hashed("198.51.100.77") == DailyHash(make_process_secret())("198.51.100.77")


def test_an_unknown_mode_is_refused():
    with pytest.raises(ValueError):
        address_shown("half")
