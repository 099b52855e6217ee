"""Rate limiting of POST /collect/event and the Segment-compatible /v1/ routes, through flask-limiter: `init_app` is the one entry point.

Inside: who a client is (clients), what a request costs and the limiter
(limiter), where counts live (storage), what happens when that storage fails
(outage), the replay of recent refusals (refusals) and the headers (headers).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TYPE_CHECKING

import flask
from flask_limiter import Limiter

from .clients import client_key_func, client_of, key_for_address
from .headers import header_writer
from .limiter import build_limiter, check_storage, event_cost
from .outage import STORAGE_ERRORS, StorageOutage
from .refusals import Refusals, RefuseKnownClients, storage_check
from .sqlite_storage import CollectorSQLiteStorage
from .storage import CollectorMemcachedStorage

if TYPE_CHECKING:
    from ..settings import Settings

__all__ = ["close", "init_app", "key_for_address"]

_EXTENSION = "collector.ratelimit"


def init_app(
    app: flask.Flask,
    settings: Settings,
    limited: flask.Blueprint,
    count_events: Callable[[flask.Request], int | None],
    key_id: Callable[[dict], str | None] | None = None,
    paths: Collection[str] = (),
) -> Limiter:
    """Limit every route of `limited`; other routes (health checks, metrics) are never limited.

    `paths` are the paths of `limited`'s routes as clients send them: the cheap
    replay of a refusal (refusals.py) answers those, below Flask, where routes are not matched yet.

    `count_events` tells how many events a request carries, for
    COLLECTOR_RATE_LIMIT_COST=event; `key_id` the id of a request's valid write
    key (from its WSGI environ), for COLLECTOR_RATE_LIMIT_BY=key. Call before
    `limited` is registered.
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
    # Before the limiter's own check, which flask-limiter registers in init_app.
    app.before_request(outage.begin_request)
    limiter.init_app(app)
    check_storage(limiter, settings.rate_limit_storage)
    remember_refusal = None
    if settings.rate_limit_strategy == "fixed-window" and not per_event:
        # Only there is a refusal certain to last until its window resets.
        refusals = Refusals()
        # Keyed like the limiter (`client`): by write key with COLLECTOR_RATE_LIMIT_BY=key, never by address then.
        # A replay follows the storage: a flushed or restarted memcached lets the client through again.
        # A Segment client sending its key only in the body (`writeKey`) is known by it only once Flask
        # has read the body: with COLLECTOR_RATE_LIMIT_BY=key it is not replayed, the limiter refuses it.
        app.wsgi_app = RefuseKnownClients(  # type: ignore[method-assign]
            app.wsgi_app, refusals, client, paths, still_refused=storage_check(limiter.storage, STORAGE_ERRORS)
        )
        remember_refusal = refusals.remember
    key = client_key_func(client)
    app.after_request(header_writer(limiter, outage, remember_refusal, key))
    app.extensions[_EXTENSION] = limiter
    return limiter


def close(app: flask.Flask) -> None:
    """Close this thread's connection to the limits' storage (memcached, the SQLite file), if it has one."""
    limiter = app.extensions.get(_EXTENSION)
    storage = limiter.storage if limiter is not None else None
    if isinstance(storage, (CollectorMemcachedStorage, CollectorSQLiteStorage)):
        storage.close()
