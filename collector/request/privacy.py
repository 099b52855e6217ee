"""What is kept of a client's address: COLLECTOR_CLIENT_IP, for the stored `client.ip` and the logs.

- `full`: the address as the client (or the trusted proxy) gave it.
- `truncate`: the network only: IPv4 to its /24 (203.0.113.7 -> 203.0.113.0),
  IPv6 to its /48 (2001:db8:1234:5678::1 -> 2001:db8:1234::). An IPv4 address
  written as IPv6 (::ffff:203.0.113.7) is truncated as the IPv4 address it is.
- `hash`: a keyed hash, HMAC-SHA256 of the address under a salt that changes at
  every UTC midnight, as 32 hex digits: one client reads the same all day, and
  cannot be followed from one day to the next, nor turned back into its
  address by trying all 2**32 IPv4 addresses, without the salt.
- `drop`: nothing (null).

The salt. Each day's salt is derived (HMAC-SHA256) from the date and a random
secret made in memory when the service starts, and neither is ever written
anywhere. Under gunicorn the secret is made by the master, before it forks its
workers (`make_process_secret`, called from gunicorn.conf.py), so every worker
of one master inherits the same secret through fork and hashes a client alike,
whichever worker answers it; workers restarted later are forked from the same
master and agree too. Not passed in an environment variable: that would be
readable in /proc/<pid>/environ and inherited by any program the service
started, and only settings read the environment. A restart (or gunicorn's
USR2 upgrade, which starts a new master) makes a new secret: hashes before and
after it differ, even within one day. Several VMs each have their own secret:
the same client hashes differently on each, by design (no secret to share, or
to leak, between them). While a master runs, its memory holds the secret and
so, in effect, every day's salt since it started; once it stops, nothing can
link a stored hash to an address.

The rate limit is not affected: it keys on the whole address (see
`collector.ratelimit.identity`).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import ipaddress
import os
import threading
import time
from collections.abc import Callable

MODES = ("full", "truncate", "hash", "drop")
IPV4_PREFIX = 24
IPV6_PREFIX = 48
HASH_HEX_DIGITS = 32

Shown = Callable[[str | None], str | None]

_secret: bytes | None = None
_secret_lock = threading.Lock()


def make_process_secret() -> bytes:
    """This process's secret for the daily salts, made on first use and kept in memory only.

    Call it in a process that forks the others (gunicorn's master) so that
    they all share it; a second call returns the same secret (gunicorn reads
    its config file again on SIGHUP).
    """
    global _secret
    with _secret_lock:
        if _secret is None:
            _secret = os.urandom(32)
        return _secret


@functools.cache
def address_shown(mode: str) -> Shown:
    """The function from an address (or None) to what is kept of it under COLLECTOR_CLIENT_IP=`mode`.

    One per mode and process (the app's and the access log's are the same one).

    :raises ValueError: for a mode that is not one of `MODES`.
    """
    if mode == "full":
        return _as_is
    if mode == "truncate":
        return truncated
    if mode == "hash":
        return DailyHash(make_process_secret())
    if mode == "drop":
        return _nothing
    raise ValueError(f"COLLECTOR_CLIENT_IP must be one of {', '.join(MODES)}, got {mode!r}")


def _as_is(address: str | None) -> str | None:
    return address


def _nothing(address: str | None) -> None:
    return None


@functools.lru_cache(maxsize=65536)
def truncated(address: str | None) -> str | None:
    """The address of `address`'s /24 (IPv4) or /48 (IPv6) network; None for what is not an address."""
    ip = _parsed(address)
    if ip is None:
        return None
    prefix = IPV4_PREFIX if ip.version == 4 else IPV6_PREFIX
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False).network_address)


class DailyHash:
    """HMAC-SHA256 of an address under the day's salt (UTC), as `HASH_HEX_DIGITS` hex digits."""

    def __init__(self, secret: bytes, clock: Callable[[], float] = time.time) -> None:
        self._secret = secret
        self._clock = clock
        self._day: tuple[int, bytes] = (-1, b"")

    def __call__(self, address: str | None) -> str | None:
        return self.at(address, self._clock())

    def at(self, address: str | None, now: float) -> str | None:
        """What `address` hashes to at `now` (epoch seconds); None for what is not an address."""
        ip = _parsed(address)
        if ip is None:
            return None
        digest = hmac.new(self._salt(int(now // 86400)), str(ip).encode(), hashlib.sha256).hexdigest()
        return digest[:HASH_HEX_DIGITS]

    def _salt(self, day: int) -> bytes:
        cached_day, salt = self._day  # one tuple: threads see a day and its salt together
        if cached_day != day:
            date = time.strftime("%Y-%m-%d", time.gmtime(day * 86400))
            salt = hmac.new(self._secret, b"collector client address salt " + date.encode(), hashlib.sha256).digest()
            self._day = (day, salt)
        return salt


@functools.lru_cache(maxsize=65536)
def _parsed(address: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """`address` in one canonical form (IPv4 for IPv4-mapped IPv6, no zone), or None if it is not an address.

    One form, so that a client is truncated or hashed alike however its
    address was written (`2001:DB8::1`, `2001:db8:0:0::1`, `::ffff:192.0.2.1`).
    """
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip
