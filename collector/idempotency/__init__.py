"""Exactly once where it can be: Idempotency-Key retries and per-event dedupe, over a shared state.

`build(settings)` picks the state: memcached when COLLECTOR_RATE_LIMIT_STORAGE
names one (several VMs share it), else a SQLite file in the data directory
(every worker of one VM shares it, no server needed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pymemcache.client.base import PooledClient
from pymemcache.client.hash import HashClient

from ..settings.places import MEMCACHED, host_port
from .guard import HEADER, Idempotency
from .state import MemcachedState, SQLiteState, State

if TYPE_CHECKING:
    from ..settings import Settings

__all__ = ["HEADER", "Idempotency", "build"]


def build(settings: Settings) -> Idempotency:
    window = settings.idempotency_seconds
    if settings.idempotency_in_memcached:  # as `collector settings` and the start-up log line say
        locations = settings.rate_limit_storage[len(MEMCACHED) :].split(",")
        hosts = [host_port(location.strip(), 1) for location in locations]
        # no_delay: a request's get and set are small writes that Nagle's
        # algorithm would otherwise hold back ~40 ms each (measured).
        options = {
            "connect_timeout": settings.rate_limit_timeout,
            "timeout": settings.rate_limit_timeout,
            "no_delay": True,
        }
        client = HashClient(hosts, **options) if len(hosts) > 1 else PooledClient(hosts[0], **options)
        state: State = MemcachedState(client, window)
    else:
        state = SQLiteState(settings.data_dir, window, timeout=settings.idempotency_timeout)
    return Idempotency(state, dedupe_events=settings.dedupe == "event")
