"""flask-limiter set-up: who a client is, and the limit on /collect/event.

A client is its IP address as far as COLLECTOR_TRUSTED_PROXIES allows:
werkzeug's ProxyFix (installed in `create_app`) rewrites `remote_addr` from
X-Forwarded-For for exactly that many trusted hops, so a client cannot claim
another address to get a fresh budget. IPv6 clients are keyed by their /64,
since one host usually holds a whole /64.
"""

from __future__ import annotations

import ipaddress

import flask
from flask_limiter import Limiter

from .errors import STORAGE_RETRY_AFTER_SECONDS
from .settings import Settings

IPV6_PREFIX = 64


def client_key() -> str:
    """The rate-limit key of the current request's client."""
    return key_for_address(flask.request.remote_addr)


def key_for_address(address: str | None) -> str:
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
        return str(ipaddress.ip_network(f"{ip}/{IPV6_PREFIX}", strict=False))
    return str(ip)


def init_app(app: flask.Flask, settings: Settings, limited: flask.Blueprint) -> Limiter:
    """Limit every route of `limited`; other routes (health checks) are never limited."""
    # Registered before the limiter's own hook, so it runs after it (Flask runs
    # after_request hooks in reverse order).
    app.after_request(own_retry_after)
    limiter = build_limiter(settings)
    limiter.limit(settings.rate_limit)(limited)
    limiter.init_app(app)
    return limiter


def own_retry_after(response: flask.Response) -> flask.Response:
    """flask-limiter puts its window's Retry-After on every response: keep it
    on a 429 only; a 503 says when storage is worth retrying."""
    if response.status_code == 503:
        response.headers["Retry-After"] = str(STORAGE_RETRY_AFTER_SECONDS)
    elif response.status_code != 429:
        response.headers.pop("Retry-After", None)
    return response


def build_limiter(settings: Settings) -> Limiter:
    return Limiter(
        key_func=client_key,
        storage_uri=settings.rate_limit_storage,
        strategy="fixed-window",
        headers_enabled=True,
        retry_after="delta-seconds",
        key_prefix="collector",
    )
