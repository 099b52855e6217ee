"""What the server knows about a request besides its body: its pingId, when, and from whom.

Header values reach WSGI apps as Latin-1 text (PEP 3333), so a User-Agent sent
in UTF-8 (`MyApp (ТЕСТ)`) would be stored as mojibake: it is decoded back to
the text that was sent, invalid UTF-8 replaced with U+FFFD, never guessed. The
client address comes from the socket or, behind trusted proxies, from
X-Forwarded-For (ProxyFix): whatever that header holds, only an IP address is
stored, and a header that holds none is counted. What is kept of the address
is COLLECTOR_CLIENT_IP's choice (see collector/request/privacy.py).
"""  # noqa: RUF002 - the example above is Cyrillic on purpose: a User-Agent sent in UTF-8

from __future__ import annotations

import dataclasses
import functools
import ipaddress
import logging
import time
import uuid

import flask

from ..ops.metrics import INVALID_CLIENT_ADDRESSES
from ..request import record
from ..request.privacy import address_shown
from ..request.text import header_text

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class RequestFacts:
    """What the server knows about a request besides its body."""

    ping_id: str
    received_at: str
    client_ip: str | None
    user_agent: str | None
    # The id of the request's write key (`client.keyId`), when keys are required.
    key_id: str | None = None
    # When the request reached the service, if not at `received_at`: a replayed
    # dead letter is stored later, but its client's clock is judged against
    # the moment the client sent it (see eventtime).
    arrived_at: str | None = None


def new_ping_id() -> str:
    return str(uuid.uuid4())


def request_facts(request: flask.Request, client_ip: str = "full") -> RequestFacts:
    """The facts of `request`; `client_ip` is COLLECTOR_CLIENT_IP, what is kept of its address."""
    known = record.of(request.environ)
    return RequestFacts(
        ping_id=known.ping_id or new_ping_id(),
        received_at=format_received_at(time.time()),
        client_ip=address_shown(client_ip)(client_address(request.remote_addr)),
        user_agent=user_agent(request),
        key_id=known.key_id,
    )


def user_agent(request: flask.Request) -> str | None:
    """The request's User-Agent as the client sent it (UTF-8 decoded back), or None without one."""
    return header_text(request.headers.get("User-Agent"))


def format_received_at(now: float) -> str:
    """RFC 3339, UTC, milliseconds, `Z`, from epoch seconds: 2026-11-26T04:56:52.123Z."""
    second = int(now)
    return _second_prefix(second) + f"{int((now - second) * 1000):03d}Z"


@functools.lru_cache(maxsize=4)
def _second_prefix(second: int) -> str:
    # strftime is a measurable share of a small request; a second has many requests.
    return time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(second))


def client_address(address: str | None) -> str | None:
    """`address` if it is an IP address, else None (and counted)."""
    if address is None or _is_ip_address(address):
        return address
    INVALID_CLIENT_ADDRESSES.inc()
    return None


@functools.lru_cache(maxsize=65536)
def _is_ip_address(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True
