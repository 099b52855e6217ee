"""Who a client is, for the rate limit: its address, as far as trusted proxies allow.

werkzeug's ProxyFix (placed by collector/stack.py when COLLECTOR_TRUSTED_PROXIES
is set) rewrites `remote_addr` from X-Forwarded-For for exactly that many
trusted hops, so a client cannot claim another address to get a fresh budget.
IPv6 clients are keyed by their network (COLLECTOR_RATE_LIMIT_IPV6_PREFIX, /64
by default), since one host usually holds a whole /64.

With COLLECTOR_RATE_LIMIT_BY=key a client is its write key instead, by the
key's public id: every page and job sending with one key shares its limit.
Requests reach the limiter only with a valid key (the key check runs first,
see collector.ingest.keys); one without would be counted by its address.

With COLLECTOR_CLIENT_IP other than `full`, the limit still counts each whole
address (truncating it would make a /24 share one limit), but its key in the
storage is a SHA-256 of the address, not the address: memcached holds it in
memory only, yet it can show keys (`stats cachedump`, `lru_crawler metadump`),
log them (`memcached -vv`, into the journal) or keep them on disk (`-e`,
extstore). The hash is not keyed by a secret: every worker of every VM must
count a client under the same key, and a secret for that would have to be
shared by all VMs, a setting to manage for little gain, since whoever can read
memcached's keys could also watch its traffic. So it keeps the address out of
memcached's dumps and logs, not out of reach of someone who tries every IPv4
address against them.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
from collections.abc import Callable

import flask

# A WSGI environ -> the key its request is counted under.
ClientOf = Callable[[dict], str]


@functools.lru_cache(maxsize=65536)
def key_for_address(address: str | None, ipv6_prefix: int = 64) -> str:
    """The rate-limit key of a client address (cached: parsing an address costs
    more than the rest of the key; clients come back)."""
    if not address:
        # A unix socket without a trusted proxy: every client looks the same.
        return "unknown"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/{ipv6_prefix}", strict=False))
    return str(ip)


@functools.lru_cache(maxsize=65536)
def hidden_key(key: str) -> str:
    """The storage key of an address's key when addresses are not kept (see the module's docstring)."""
    return "client-" + hashlib.sha256(b"collector rate limit client " + key.encode()).hexdigest()[:32]


def client_of(
    ipv6_prefix: int = 64,
    by: str = "client",
    key_id: Callable[[dict], str | None] | None = None,
    hide_addresses: bool = False,
) -> ClientOf:
    """Who a request's client is, from its WSGI environ, for flask-limiter and the refusal replay alike.

    `by` is COLLECTOR_RATE_LIMIT_BY; `key_id` tells a request's write key id
    (None without a valid key); `hide_addresses` is COLLECTOR_CLIENT_IP != full.
    """

    def by_address(environ: dict) -> str:
        key = key_for_address(environ.get("REMOTE_ADDR"), ipv6_prefix)
        return hidden_key(key) if hide_addresses else key

    if by != "key" or key_id is None:
        return by_address

    def by_key(environ: dict) -> str:
        found = key_id(environ)
        return "key-" + found if found else by_address(environ)

    return by_key


def client_key_func(client: ClientOf) -> Callable[[], str]:
    """The key function of the current request's client (a `client_of(...)`), for flask-limiter's `key_func`."""

    def client_key() -> str:
        return client(flask.request.environ)

    return client_key
