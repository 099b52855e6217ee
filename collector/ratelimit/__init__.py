"""Rate limiting of POST /collect/event and Segment's /v1/ routes, through flask-limiter: `build` is the entry point.

Inside: who a client is (identity), what a request costs and the limiter
(limiter), where counts live (storage), what happens when that storage fails
(outage), the replay of recent refusals (refusals) and the headers (headers).
`build` returns the pieces as values (`RateLimit`); create_app's stack block
(collector/stack.py) places each where it runs.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any

import flask
from flask_limiter import Limiter

from .headers import header_writer
from .identity import client_key_func, client_of, key_for_address
from .limiter import build_limiter, check_storage, event_cost
from .outage import STORAGE_ERRORS, StorageOutage
from .refusals import Refusals, RefuseKnownClients, storage_check
from .sqlite_storage import CollectorSQLiteStorage
from .storage import CollectorMemcachedStorage

if TYPE_CHECKING:
    from ..settings import Settings

__all__ = ["EXTENSION", "RateLimit", "build", "close", "key_for_address"]

EXTENSION = "collector.ratelimit"


@dataclasses.dataclass(frozen=True)
class RateLimit:
    """The rate limit's layer and hooks, as values for the stack block."""

    limiter: Limiter
    # WSGI layer: the cheap 429 for clients known to be refused; None unless fixed-window with a cost per request.
    refuse_known_clients: Callable[[Any], RefuseKnownClients] | None
    # before_request, ahead of flask-limiter's check: forgets the previous request's storage failure.
    begin_request: Callable[[], None]
    # after_request: the X-RateLimit-* headers (and a 429 remembered for the replay).
    add_headers: Callable[[flask.Response], flask.Response]
    storage: str  # COLLECTOR_RATE_LIMIT_STORAGE

    def install_flask_limiter(self, app: flask.Flask) -> None:
        """flask-limiter's init_app: it registers its own check (before_request), after_request and teardown.

        flask-limiter (4.1) offers no public way to take its hooks one by one, so the
        stack block calls this at the place its check must run (see collector/stack.py).
        """
        self.limiter.init_app(app)
        check_storage(self.limiter, self.storage)
        app.extensions[EXTENSION] = self.limiter


def build(
    settings: Settings,
    limited: flask.Blueprint,
    count_events: Callable[[flask.Request], int | None],
    key_id: Callable[[dict], str | None] | None = None,
    paths: Collection[str] = (),
) -> RateLimit:
    """Limit every route of `limited`; other routes (health checks, metrics) are never limited.

    `paths` are the paths of `limited`'s routes as clients send them: the cheap
    replay of a refusal (refusals.py) answers those, below Flask, where routes are not matched yet.

    `count_events` tells how many events a request carries, for
    COLLECTOR_RATE_LIMIT_COST=event; `key_id` the id of a request's valid write
    key (from its WSGI environ), for COLLECTOR_RATE_LIMIT_BY=key.
    """
    per_event = settings.rate_limit_cost == "event"
    cost = event_cost(count_events, settings.max_events) if per_event else 1
    outage = StorageOutage(settings.rate_limit_storage, settings.rate_limit_on_error)
    client = client_of(
        settings.rate_limit_ipv6_prefix,
        by=settings.rate_limit_by,
        key_id=key_id,
        hide_addresses=settings.client_ip != "full",
    )
    limiter = build_limiter(
        storage=settings.rate_limit_storage,
        strategy=settings.rate_limit_strategy,
        timeout=settings.rate_limit_timeout,
        client=client,
        cost=cost,
        outage=outage,
        data_dir=settings.data_dir,
    )
    # Shared: every route of `limited` (/collect/event and the Segment-compatible
    # /v1/ routes) draws on one budget per client, not one per route.
    limiter.shared_limit(settings.rate_limit, scope=limited.name, cost=cost)(limited)
    refuse_known_clients = remember_refusal = None
    if settings.rate_limit_strategy == "fixed-window" and not per_event:
        # Only there is a refusal certain to last until its window resets.
        refusals = Refusals()
        refuse_known_clients = _replay_layer(refusals, limiter, client, paths)
        remember_refusal = refusals.remember
    return RateLimit(
        limiter=limiter,
        refuse_known_clients=refuse_known_clients,
        begin_request=outage.begin_request,
        add_headers=header_writer(limiter, outage, remember_refusal, client_key_func(client)),
        storage=settings.rate_limit_storage,
    )


def _replay_layer(
    refusals: Refusals, limiter: Limiter, client: Callable[[dict], str], paths: Collection[str]
) -> Callable[[Any], RefuseKnownClients]:
    """The layer that replays `refusals` to the clients they were for, on `paths`."""
    # Keyed like the limiter (`client`): by write key with COLLECTOR_RATE_LIMIT_BY=key, never by address then.
    # A replay follows the storage: a flushed or restarted memcached lets the client through again.
    # A Segment client sending its key only in the body (`writeKey`) is known by it only once Flask
    # has read the body: with COLLECTOR_RATE_LIMIT_BY=key it is not replayed, the limiter refuses it.
    return functools.partial(
        RefuseKnownClients,
        refusals=refusals,
        client_key=client,
        paths=paths,
        still_refused=storage_check(_StorageOf(limiter), STORAGE_ERRORS),
    )


class _StorageOf:
    """The limiter's storage, read when asked: flask-limiter makes it in its init_app, after the layers are built."""

    def __init__(self, limiter: Limiter) -> None:
        self._limiter = limiter

    def get(self, key: str) -> int:
        return self._limiter.storage.get(key)


def close(app: flask.Flask) -> None:
    """Close this thread's connection to the limits' storage (memcached, the SQLite file), if it has one."""
    limiter = app.extensions.get(EXTENSION)
    storage = limiter.storage if limiter is not None else None
    if isinstance(storage, (CollectorMemcachedStorage, CollectorSQLiteStorage)):
        storage.close()
