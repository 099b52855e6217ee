"""flask-limiter set-up: who a client is, what a request costs, the headers.

A client is its IP address as far as COLLECTOR_TRUSTED_PROXIES allows:
werkzeug's ProxyFix (installed in `create_app`) rewrites `remote_addr` from
X-Forwarded-For for exactly that many trusted hops, so a client cannot claim
another address to get a fresh budget. IPv6 clients are keyed by their network
(COLLECTOR_RATE_LIMIT_IPV6_PREFIX, /64 by default), since one host usually
holds a whole /64.

flask-limiter counts; this module decides what happens when its storage fails
(see limit_outages) and writes the X-RateLimit-* headers itself, so that a
storage failure while reading them never turns a response into a 500.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
from collections.abc import Callable

import flask
from flask_limiter import Limiter, RateLimitExceeded
from limits.storage import MemoryStorage

from .limit_outages import STORAGE_ERRORS, StorageOutage
from .limit_storage import SCHEME as FIXED_WINDOW_MEMCACHED
from .refusals import Refusals, RefuseKnownClients, rate_limit_headers
from .settings import Settings

logger = logging.getLogger(__name__)


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
    def client_key() -> str:
        """The rate-limit key of the current request's client."""
        return key_for_address(flask.request.remote_addr, ipv6_prefix)

    return client_key


class CollectorLimiter(Limiter):
    """flask-limiter, with storage failures handed to a `StorageOutage`.

    flask-limiter registers `_check_request_limit` as its before_request hook.
    Its own answer to a storage failure, swallow_errors, logs a traceback per
    request and cannot refuse with 503; this override catches the failure
    instead. Pinned to flask-limiter 4.1 (requirements.txt), where that hook
    re-raises storage errors when swallow_errors is off.

    A refused request is refused whole, its cost included: the fixed-window
    strategy adds the cost before comparing, so a refused batch of 500 events
    would use up the 100 its client had left. `_give_back` returns it.
    """

    def __init__(
        self, outage: StorageOutage, cost: int | Callable[[], int], strategy: str, **options
    ) -> None:
        super().__init__(strategy=strategy, **options)
        self.outage = outage
        self.cost = cost
        self.counts_refused = strategy == "fixed-window"

    def _check_request_limit(self, callable_name: str | None = None, in_middleware: bool = True) -> None:
        try:
            super()._check_request_limit(callable_name, in_middleware)
        except RateLimitExceeded:
            self._give_back()
            raise
        except STORAGE_ERRORS as error:
            self.outage.record(error)
            self.outage.unchecked()
            return
        if self.context.view_rate_limits:  # the storage did answer for this request
            self.outage.recovered()

    def _give_back(self) -> None:
        # The other strategies compare before they count, and count nothing on refusal.
        if not self.counts_refused:
            return
        amount = self.cost() if callable(self.cost) else self.cost
        # Every limit evaluated so far was counted, up to the one that refused
        # (flask-limiter stops at the first breach).
        for counted in self.context.view_rate_limits:
            if counted.breached and amount == 1:
                # Over its limit by one unit or a hundred, the client is refused
                # alike until the window resets: no round trip for nothing.
                continue
            try:
                if isinstance(self.storage, MemoryStorage):
                    self.storage.decr(counted.key, amount)
                else:  # MemcachedStorage: its pymemcache client
                    self.storage.storage.decr(counted.key, amount)
            except STORAGE_ERRORS as error:
                self.outage.record(error)
                return


def init_app(
    app: flask.Flask, settings: Settings, limited: flask.Blueprint, event_count: Callable[[], int]
) -> Limiter:
    """Limit every route of `limited`; other routes (health checks, metrics) are never limited.

    `event_count` gives the cost of a request when COLLECTOR_RATE_LIMIT_COST is `event`.
    """
    warn_if_clients_share_one_key(settings)
    cost = event_count if settings.rate_limit_cost == "event" else 1
    limiter = build_limiter(settings, cost)
    limiter.limit(settings.rate_limit, cost=cost)(limited)
    limiter.init_app(app)
    refusals = None
    if settings.rate_limit_strategy == "fixed-window" and settings.rate_limit_cost == "request":
        # Only there is a refusal certain to last until its window resets.
        refusals = Refusals()
        app.wsgi_app = RefuseKnownClients(  # type: ignore[method-assign]
            app.wsgi_app, refusals, lambda address: key_for_address(address, settings.rate_limit_ipv6_prefix)
        )
    app.after_request(lambda response: add_rate_limit_headers(limiter, response, refusals))
    return limiter


def warn_if_clients_share_one_key(settings: Settings) -> None:
    if settings.bind.startswith("unix:") and not settings.trusted_proxies:
        logger.warning(
            "COLLECTOR_BIND=%s with COLLECTOR_TRUSTED_PROXIES=0: clients behind a unix socket have "
            "no address, so they all share ONE rate limit; set COLLECTOR_TRUSTED_PROXIES=1 behind nginx",
            settings.bind,
        )


def build_limiter(settings: Settings, cost: int | Callable[[], int]) -> CollectorLimiter:
    storage_options = {}
    storage_uri = settings.rate_limit_storage
    if storage_uri.startswith("memcached://"):
        if settings.rate_limit_strategy == "fixed-window":
            # One round trip per request and a reset time never seen missing (limit_storage).
            storage_uri = storage_uri.replace("memcached", FIXED_WINDOW_MEMCACHED, 1)
        # pymemcache waits forever by default: a hung memcached would hang
        # every request. These go to pymemcache's client as they are.
        storage_options = {
            "connect_timeout": settings.rate_limit_timeout,
            "timeout": settings.rate_limit_timeout,
        }
    return CollectorLimiter(
        outage=StorageOutage(settings.rate_limit_storage, settings.rate_limit_on_error),
        cost=cost,
        key_func=client_key_func(settings.rate_limit_ipv6_prefix),
        storage_uri=storage_uri,
        storage_options=storage_options,
        strategy=settings.rate_limit_strategy,
        # Headers are written by add_rate_limit_headers, see the module doc.
        headers_enabled=False,
        swallow_errors=False,
        key_prefix="collector",
    )


def add_rate_limit_headers(
    limiter: CollectorLimiter, response: flask.Response, refusals: Refusals | None = None
) -> flask.Response:
    """X-RateLimit-* on every response of a limited route, Retry-After on a 429.

    A 429 is remembered in `refusals` (when given) for the rest of its window.
    """
    current = limiter.current_limit
    if current is None:  # not a limited route, or the storage failed for this request
        return response
    try:
        window = current.window
    except STORAGE_ERRORS as error:
        limiter.outage.record(error)
        return response
    refused = response.status_code == 429
    for name, value in rate_limit_headers(current.limit.amount, window.remaining, window.reset_time, refused):
        response.headers[name] = value
    if refused:
        if refusals is not None and current.breached:
            client = current.request_args[-2]  # [prefix,] key, scope: the key flask-limiter used
            refusals.remember(client, window.reset_time, str(current.limit.amount), response.get_data())
    return response
