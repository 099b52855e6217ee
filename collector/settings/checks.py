"""Checks across settings: values each fine alone that cannot run together.

They run in `load_settings`, so `collector settings`, gunicorn.conf.py and
`create_app` stop at the same combinations with the same line.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from limits.storage import MemcachedStorage, MemoryStorage, Storage

from .error import SettingsError
from .places import MEMCACHED, MEMORY, SQLITE, STRATEGIES, host_port
from .suppressedfile import check_outside

if TYPE_CHECKING:
    from .declared import Settings


# The storage class behind each URI the storage setting accepts; the
# collector's memcached storage subclasses limits' one, and its SQLite storage
# (the fixed window only) limits' base class.
_STORAGES = {MEMORY: MemoryStorage, MEMCACHED: MemcachedStorage, SQLITE: Storage}


def check_combinations(settings: Settings) -> None:
    """:raises SettingsError: for the first combination the service cannot run."""
    check_strategy(settings.rate_limit_strategy, settings.rate_limit_storage)
    check_workers(settings.workers, settings.rate_limit_storage)
    if settings.tracking_plan is not None and settings.event_types:
        raise SettingsError(
            "COLLECTOR_TRACKING_PLAN and COLLECTOR_EVENT_TYPES are both set: the plan names the event types "
            "(its otherEventTypes says what becomes of the others); unset COLLECTOR_EVENT_TYPES"
        )
    check_outside(settings.suppressed_ids_file, settings.data_dir)
    if settings.rate_limit_by == "key" and not settings.write_keys:
        raise SettingsError(
            "COLLECTOR_RATE_LIMIT_BY=key needs write keys (COLLECTOR_API_KEYS or COLLECTOR_API_KEYS_FILE)"
        )


def check_strategy(strategy: str, storage: str) -> None:
    """:raises SettingsError: when the storage cannot run the strategy (memcached has no moving window)."""
    scheme = storage.split(":", 1)[0]
    backend = _STORAGES[scheme + "://"]
    usable = [name for name, need in STRATEGIES.items() if need is None or issubclass(backend, need)]
    if strategy not in usable:
        raise SettingsError(
            f"COLLECTOR_RATE_LIMIT_STRATEGY={strategy!r} is not supported by {scheme}:// storage: "
            f"expected one of {', '.join(usable)}"
        )


def check_workers(workers: int | None, storage: str) -> None:
    """:raises SettingsError: for several workers counting limits each in its own memory."""
    if workers is not None and workers > 1 and storage == MEMORY:
        raise SettingsError(
            "COLLECTOR_WORKERS > 1 needs COLLECTOR_RATE_LIMIT_STORAGE=sqlite:// or memcached://...: "
            "with memory:// each worker would count limits on its own"
        )


def risks(settings: Settings) -> list[str]:
    """Set-ups that run but expose the service: one line each, for `collector settings` and the start-up log."""
    found = []
    exposed = not _is_loopback(settings.bind)
    if exposed:
        found.append(
            f"COLLECTOR_BIND={settings.bind} is not a loopback address or unix socket: clients reach gunicorn "
            f"directly, and a few slow clients (headers a byte a second) hold all {settings.threads} threads "
            "of a worker; put nginx in front (see docs/deploying.md, 'Behind nginx')"
        )
    if exposed and settings.trusted_proxies:
        found.append(
            f"COLLECTOR_TRUSTED_PROXIES={settings.trusted_proxies} while clients reach gunicorn directly: "
            "they can name any address in X-Forwarded-For and get a fresh rate limit"
        )
    if settings.bind.startswith("unix:") and not settings.trusted_proxies:
        found.append(
            f"COLLECTOR_BIND={settings.bind} with COLLECTOR_TRUSTED_PROXIES=0: clients behind a unix socket "
            "have no address, so they all share ONE rate limit; set COLLECTOR_TRUSTED_PROXIES=1 behind nginx"
        )
    return found


def _is_loopback(bind: str) -> bool:
    if bind.startswith("unix:"):
        return True
    host, _ = host_port(bind, lowest_port=0)
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: assume it is reachable from outside
