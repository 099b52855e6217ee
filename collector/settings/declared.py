"""Every COLLECTOR_* setting: its default, its parser and a one-line doc.

Settings are read once, at start-up, into one frozen `Settings` object. This
module is the only place that reads the environment. A bad value raises
`SettingsError` with one line naming the variable and what it accepts, so the
service refuses to start instead of running half-configured.
"""

from __future__ import annotations

import dataclasses
import os
import socket
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import limits
import limits.storage
from limits.storage import MovingWindowSupport, SlidingWindowCounterSupport

from .values import (
    positive_int,
    non_negative_int,
    positive_number,
    positive_float,
    optional,
    rate_limit,
    storage_uri,
    ipv6_prefix,
    event_types,
    choice,
    workers,
)

# What each strategy needs from the storage, as limits declares it.
STRATEGIES: dict[str, type | None] = {
    "fixed-window": None,
    "sliding-window-counter": SlidingWindowCounterSupport,
    "moving-window": MovingWindowSupport,
}


class SettingsError(ValueError):
    """A COLLECTOR_* variable has a value the service cannot use."""


@dataclasses.dataclass(frozen=True)
class Spec:
    env: str
    default: str
    parse: Callable[[str], Any]
    doc: str


SPECS: dict[str, Spec] = {
    "data_dir": Spec(
        "COLLECTOR_DATA_DIR", "./data", Path, "where the JSON-lines files go (created if missing)"
    ),
    "rate_limit": Spec(
        "COLLECTOR_RATE_LIMIT",
        "1000 per minute",
        rate_limit,
        "limit per client, in flask-limiter's notation; several separated by ';'",
    ),
    "rate_limit_storage": Spec(
        "COLLECTOR_RATE_LIMIT_STORAGE",
        "memory://",
        storage_uri,
        "flask-limiter storage URI; memcached://host:port for a store shared by workers and VMs",
    ),
    "rate_limit_strategy": Spec(
        "COLLECTOR_RATE_LIMIT_STRATEGY",
        "fixed-window",
        choice(*STRATEGIES),
        "fixed-window, sliding-window-counter or moving-window (memory:// only)",
    ),
    "rate_limit_cost": Spec(
        "COLLECTOR_RATE_LIMIT_COST",
        "request",
        choice("request", "event"),
        "what the limit counts: requests, or the events they carry",
    ),
    "rate_limit_ipv6_prefix": Spec(
        "COLLECTOR_RATE_LIMIT_IPV6_PREFIX",
        "64",
        ipv6_prefix,
        "IPv6 clients share one limit per network of this prefix length",
    ),
    "rate_limit_timeout": Spec(
        "COLLECTOR_RATE_LIMIT_TIMEOUT",
        "0.2",
        positive_float,
        "seconds to wait for memcached to connect or answer before giving up",
    ),
    "rate_limit_on_error": Spec(
        "COLLECTOR_RATE_LIMIT_ON_ERROR",
        "open",
        choice("open", "closed"),
        "when memcached fails: open keeps collecting unlimited, closed answers 503",
    ),
    "trusted_proxies": Spec(
        "COLLECTOR_TRUSTED_PROXIES",
        "0",
        non_negative_int,
        "how many reverse proxies in front to trust for X-Forwarded-For (1 behind nginx)",
    ),
    "max_body_bytes": Spec(
        "COLLECTOR_MAX_BODY_BYTES", "1048576", positive_int, "larger request bodies get 413"
    ),
    "max_events": Spec("COLLECTOR_MAX_EVENTS", "500", positive_int, "most events in one request"),
    "max_event_bytes": Spec(
        "COLLECTOR_MAX_EVENT_BYTES",
        "32768",
        positive_int,
        "largest single event, as stored (a larger one gets 413)",
    ),
    "event_types": Spec(
        "COLLECTOR_EVENT_TYPES",
        "",
        event_types,
        "comma-separated allow-list of event types; empty allows any well-formed type",
    ),
    "rotate_bytes": Spec(
        "COLLECTOR_ROTATE_BYTES", "67108864", positive_int, "start a new file past this size"
    ),
    "rotate_seconds": Spec(
        "COLLECTOR_ROTATE_SECONDS", "3600", positive_float, "start a new file after this age"
    ),
    "fsync": Spec(
        "COLLECTOR_FSYNC",
        "interval",
        choice("always", "interval", "never"),
        "when events reach the disk: always (before the 201), interval, never (left to the OS)",
    ),
    "fsync_seconds": Spec(
        "COLLECTOR_FSYNC_SECONDS",
        "1",
        positive_float,
        "with COLLECTOR_FSYNC=interval, the longest time written events wait for an fsync",
    ),
    "compress": Spec(
        "COLLECTOR_COMPRESS",
        "none",
        choice("none", "gzip"),
        "compress finished files (in the background): none or gzip",
    ),
    "retention_days": Spec(
        "COLLECTOR_RETENTION_DAYS",
        "",
        optional(positive_number),
        "delete finished files whose last event is older than this; empty keeps them",
    ),
    "retention_bytes": Spec(
        "COLLECTOR_RETENTION_BYTES",
        "",
        optional(positive_int),
        "delete the oldest finished files while they total more than this; empty keeps them",
    ),
    "workers": Spec(
        "COLLECTOR_WORKERS",
        "auto",
        workers,
        "gunicorn worker processes; auto: 1 with memory:// storage, 1 per core with memcached",
    ),
    "threads": Spec("COLLECTOR_THREADS", "4", positive_int, "threads per gunicorn worker"),
    "bind": Spec("COLLECTOR_BIND", "127.0.0.1:8000", str, "gunicorn's bind address"),
    "log_level": Spec(
        "COLLECTOR_LOG_LEVEL",
        "info",
        choice("debug", "info", "warning", "error"),
        "level of the service's own log lines (to stderr)",
    ),
    "host_name": Spec(
        "COLLECTOR_HOST_NAME",
        "",
        str,
        "name of this host in file names; empty uses the machine's host name",
    ),
}


@dataclasses.dataclass(frozen=True)
class Settings:
    data_dir: Path
    rate_limit: str
    rate_limit_storage: str
    rate_limit_strategy: str
    rate_limit_cost: str
    rate_limit_ipv6_prefix: int
    rate_limit_timeout: float
    rate_limit_on_error: str
    trusted_proxies: int
    max_body_bytes: int
    max_events: int
    max_event_bytes: int
    event_types: frozenset[str]
    rotate_bytes: int
    rotate_seconds: float
    fsync: str
    fsync_seconds: float
    compress: str
    retention_days: float | None
    retention_bytes: int | None
    workers: int
    threads: int
    bind: str
    log_level: str
    host_name: str

    def describe(self) -> dict[str, str]:
        """Every setting as its variable name and value, for the start-up log line."""
        return {
            spec.env: _render(getattr(self, name)) for name, spec in SPECS.items()
        }


def _render(value: Any) -> str:
    if isinstance(value, frozenset):
        return ",".join(sorted(value))
    if value is None:
        return ""
    return str(value)


def check_strategy(strategy: str, storage: str) -> None:
    """:raises SettingsError: when the storage cannot run the strategy (memcached has no moving window)."""
    scheme = storage.split(":", 1)[0]
    # The storage class, looked up the way limits does, without building one
    # (a memory storage would start a thread).
    backend = limits.storage.SCHEMES[scheme]
    usable = [name for name, need in STRATEGIES.items() if need is None or issubclass(backend, need)]
    if strategy not in usable:
        raise SettingsError(
            f"COLLECTOR_RATE_LIMIT_STRATEGY={strategy!r} is not supported by {scheme}:// storage: "
            f"expected one of {', '.join(usable)}"
        )


def load_settings(
    environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> Settings:
    """Read every setting from `environ` (default: the process environment).

    `overrides` maps field names to raw strings or already-typed values; tests
    use it instead of touching the environment.

    :raises SettingsError: naming the first variable with a bad value.
    """
    environ = os.environ if environ is None else environ
    overrides = overrides or {}
    values: dict[str, Any] = {}
    for name, spec in SPECS.items():
        raw = overrides.get(name, environ.get(spec.env, spec.default))
        if not isinstance(raw, str):
            values[name] = raw
            continue
        try:
            values[name] = spec.parse(raw)
        except ValueError as error:
            raise SettingsError(f"{spec.env}={raw!r} is not valid: expected {error}") from None
    check_strategy(values["rate_limit_strategy"], values["rate_limit_storage"])
    if not values["host_name"]:
        values["host_name"] = socket.gethostname()
    return Settings(**values)
