"""What is kept of the client's address, through the app; the rate limit still counts whole addresses."""

from __future__ import annotations

import re
import socket

import orjson
import pytest

from collector.request.privacy import address_shown
from tests.app import helpers
from tests.app.helpers import stored

BODY = orjson.dumps({"messageBody": [{"eventType": "signup"}]})
ADDRESSES = ["198.51.100.77", "2001:db8:1234:5678::1"]


def post(client, address, headers=None):
    return helpers.post(client, BODY, headers=headers, remote_addr=address)


@pytest.mark.parametrize(
    "client_ip, kept",
    [
        ("full", ADDRESSES),
        ("truncate", ["198.51.100.0", "2001:db8:1234::"]),
        ("drop", [None, None]),
        ("hash", [address_shown("hash")(address) for address in ADDRESSES]),
    ],
)
def test_the_stored_address_is_what_the_mode_keeps(make_app, client_ip, kept):
    app = make_app(client_ip=client_ip)
    client = app.test_client()
    for address in ADDRESSES:
        assert post(client, address).status_code == 201
    assert [record["client"]["ip"] for record in stored(app)] == kept


def test_a_hash_is_the_same_for_one_client_and_differs_between_clients(make_app):
    app = make_app(client_ip="hash")
    client = app.test_client()
    for address in ["198.51.100.77", "198.51.100.77", "198.51.100.78"]:
        post(client, address)
    first, again, other = (record["client"]["ip"] for record in stored(app))
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first == again != other


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_one_transformed(make_app):
    app = make_app(client_ip="truncate", trusted_proxies=1)
    post(app.test_client(), "127.0.0.1", {"X-Forwarded-For": "198.51.100.77"})
    assert stored(app)[0]["client"]["ip"] == "198.51.100.0"


def test_truncated_addresses_still_have_a_limit_each(make_app):
    client = make_app(client_ip="truncate", rate_limit="1 per hour").test_client()
    assert post(client, "198.51.100.77").status_code == 201
    assert post(client, "198.51.100.78").status_code == 201
    assert post(client, "198.51.100.77").status_code == 429


def memcached_keys(memcached) -> list[str]:
    with socket.create_connection(("127.0.0.1", memcached.port), timeout=5) as conn:
        conn.sendall(b"lru_crawler metadump all\r\n")
        reply = b""
        while not reply.endswith(b"END\r\n"):
            reply += conn.recv(65536)
    return re.findall(r"key=(\S+)", reply.decode())


@pytest.mark.parametrize("client_ip", ["truncate", "hash", "drop"])
def test_memcached_keys_hold_no_address_unless_addresses_are_kept(make_app, memcached, client_ip):
    app = make_app(client_ip=client_ip, rate_limit="5 per hour", rate_limit_storage=memcached.uri)
    client = app.test_client()
    for address in ADDRESSES:
        assert post(client, address).headers["X-RateLimit-Remaining"] == "4"
    keys = memcached_keys(memcached)
    assert keys, "the limits are counted in memcached"
    for key in keys:
        assert "198.51.100" not in key and "2001" not in key.lower(), key


def test_with_full_addresses_memcached_keys_name_the_client(make_app, memcached):
    # The contrast: the test above would notice addresses in the keys.
    app = make_app(rate_limit="5 per hour", rate_limit_storage=memcached.uri)
    post(app.test_client(), "198.51.100.77")
    assert any("198.51.100.77" in key for key in memcached_keys(memcached))
