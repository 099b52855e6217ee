"""The rate-limit key of a client address."""

from __future__ import annotations

import re

import pytest

from collector.ratelimit import key_for_address
from collector.ratelimit.identity import client_of


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


def test_with_addresses_not_kept_the_storage_key_is_a_hash_of_the_whole_address():
    client = client_of(64, hide_addresses=True)
    key = client({"REMOTE_ADDR": "198.51.100.77"})
    assert re.fullmatch(r"client-[0-9a-f]{32}", key)
    assert "198.51.100" not in key
    # The same for every worker and VM (no secret), and still one limit per address, not per network.
    assert client({"REMOTE_ADDR": "198.51.100.77"}) == key
    assert client({"REMOTE_ADDR": "198.51.100.78"}) != key
    # IPv6: still per /64, as the address's limit is.
    assert client({"REMOTE_ADDR": "2001:db8:1:2::1"}) == client({"REMOTE_ADDR": "2001:db8:1:2::2"})


def test_by_key_a_client_is_its_write_key():
    ids = {"secret-key-number-1": "0badc0de"}
    client = client_of(64, by="key", key_id=lambda environ: ids.get(environ.get("HTTP_X_COLLECTOR_KEY")))
    assert client({"REMOTE_ADDR": "198.51.100.77", "HTTP_X_COLLECTOR_KEY": "secret-key-number-1"}) == "key-0badc0de"
    assert client({"REMOTE_ADDR": "203.0.113.9", "HTTP_X_COLLECTOR_KEY": "secret-key-number-1"}) == "key-0badc0de"
    # Without a valid key (the key check refuses such requests before the limit): by address.
    assert client({"REMOTE_ADDR": "198.51.100.77"}) == "198.51.100.77"
