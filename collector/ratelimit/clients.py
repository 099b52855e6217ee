"""Who a client is, for the rate limit: its address, as far as trusted proxies allow.

werkzeug's ProxyFix (installed by `create_app` when COLLECTOR_TRUSTED_PROXIES
is set) rewrites `remote_addr` from X-Forwarded-For for exactly that many
trusted hops, so a client cannot claim another address to get a fresh budget.
IPv6 clients are keyed by their network (COLLECTOR_RATE_LIMIT_IPV6_PREFIX, /64
by default), since one host usually holds a whole /64.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Callable

import flask

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


def client_key_func(ipv6_prefix: int) -> Callable[[], str]:
    """The key function of the current request's client, for flask-limiter's `key_func`."""

    def client_key() -> str:
        return key_for_address(flask.request.remote_addr, ipv6_prefix)

    return client_key
