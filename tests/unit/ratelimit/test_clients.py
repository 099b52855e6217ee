"""The rate-limit key of a client address."""

from __future__ import annotations

import pytest

from collector.ratelimit import key_for_address


@pytest.mark.parametrize(
    ("address", "prefix", "key"),
    [
        ("203.0.113.7", 64, "203.0.113.7"),
        ("2001:db8:1:2:aaaa::1", 64, "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", 64, "2001:db8:1:2::/64"),
        ("2001:db8:1:2:aaaa::1", 48, "2001:db8:1::/48"),
        ("2001:db8:1:2:aaaa::1", 128, "2001:db8:1:2:aaaa::1/128"),
        ("::ffff:203.0.113.7", 64, "203.0.113.7"),
        (None, 64, "unknown"),
        ("", 64, "unknown"),
    ],
)
def test_client_key(address, prefix, key):
    assert key_for_address(address, prefix) == key
