"""Every COLLECTOR_* setting, declared once, as a field of `Settings`.

Each field says its default (as an operator would write it), its parser and a
one-line doc; the variable is COLLECTOR_ and the field's name in capitals.
`load_settings`, `Settings.describe()` (the start-up log line), `collector
settings` and docs/configuration.md's table all read these declarations, so a setting
cannot be added in one of them and missed in another.

Settings are read once, at start-up, into one frozen `Settings` (see
loading.py, the only place that reads the environment). A bad value raises
`SettingsError` with one line naming the variable and what it accepts, so the
service does not start instead of running half-configured.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from pathlib import Path
from typing import TYPE_CHECKING

from ..bots import parse_patterns
from . import access, places, planfile, suppressedfile, values
from .declaring import KEY, PREFIX, Setting, declare

if TYPE_CHECKING:
    from ..plan import TrackingPlan
    from ..suppressed import SuppressedIds

@dataclasses.dataclass(frozen=True)
class Settings:
    """The service's configuration, typed. Build it with `load_settings`."""

    # declare() returns a dataclasses.field (ruff cannot see it), not a shared default.
    data_dir: Path = declare(  # noqa: RUF009
        "./data", places.data_dir, "where the JSON-lines files go (created if missing)"
    )
    rate_limit: str = declare(
        "1000 per minute",
        values.rate_limit,
        "limit per client, in flask-limiter's notation (amounts up to 1000000000, periods up to "
        "366 days); several separated by `;`",
    )
    rate_limit_storage: str = declare(
        "sqlite://",
        places.storage_uri,
        "`sqlite://` (a file in the data directory, shared by the workers of this VM), "
        "`memcached://host:port[,host:port]` (shared by workers and VMs), or `memory://` (one worker); "
        "the idempotency state has no setting of its own and follows this one: in the same memcached with "
        "`memcached://`, else in a SQLite file in the data directory (see [Retries](retries-and-dead-letters.md))",
    )
    rate_limit_strategy: str = declare(
        "fixed-window",
        values.choice(*places.STRATEGIES),
        "`fixed-window`, `sliding-window-counter` (not with `sqlite://`), or `moving-window` (`memory://` only); "
        "see [Rate limits](rate-limits.md)",
    )
    rate_limit_cost: str = declare(
        "request",
        values.choice("request", "event"),
        "what a limit counts: `request`, or `event` (a request costs as many units as it carries events)",
    )
    rate_limit_ipv6_prefix: int = declare(
        "64", values.ipv6_prefix, "IPv6 clients in one network of this prefix length share one limit"
    )
    # Each request may wait this long several times (limit, Idempotency-Key):
    # at most 2 s keeps the sum well under nginx's 10 s proxy_read_timeout.
    rate_limit_timeout: float = declare(
        "0.2",
        values.number(0.001, 2, "seconds"),
        "seconds to wait for memcached to connect, and to answer, before the request counts as unchecked",
    )
    rate_limit_on_error: str = declare(
        "open",
        values.choice("open", "closed"),
        "memcached down or slow: `open` keeps collecting without limits, `closed` answers 503",
    )
    trusted_proxies: int = declare(
        "0",
        values.whole_number(0, 16),  # no real chain of proxies is longer
        "how many reverse proxies in front to trust for `X-Forwarded-For` (1 behind nginx)",
    )
    rate_limit_by: str = declare(
        "client",
        values.choice("client", "key"),
        "who a limit counts for: `client` (its address) or `key` (its write key; needs keys)",
    )
    cors_origins: frozenset[str] = declare(
        "",
        access.cors_origins,
        "web page origins allowed to send (CORS), comma-separated, or `*`; empty: none",
    )
    api_keys: frozenset[str] = declare(
        "",
        access.api_keys,
        "write keys, comma-separated; with keys (here or in the file) a request without one gets 401",
        show=access.show_keys,
        secret=True,
    )
    api_keys_file: access.KeysFile | None = declare(  # noqa: RUF009
        "",
        access.api_keys_file,
        "a file of write keys, one per line; read at start-up and on SIGHUP",
        show=access.show_keys,
    )
    client_ip: str = declare(
        "full",
        values.choice("full", "truncate", "hash", "drop"),
        "what is stored (and logged) of the client's address: `full`, `truncate` (/24, /48), "
        "`hash` (keyed, salt rotated daily, never on disk) or `drop`",
    )
    max_body_bytes: int = declare("1048576", values.body_bytes, "larger request bodies get 413")
    # 100,000 of the smallest events make a body of 2 MB: far past the default body size.
    max_events: int = declare("500", values.whole_number(1, 100_000), "most events in one request")
    max_event_bytes: int = declare(
        "32768",
        values.max_event_bytes,
        "largest single event, as stored; a larger one gets 413 naming it",
    )
    event_types: frozenset[str] = declare(
        "", values.event_types, "comma-separated allow-list of event types; empty allows any well-formed type"
    )
    # The plan names the event types (its otherEventTypes says what becomes of the rest): with an allow-list
    # too, two settings would say which types are good, so the pair is refused (checks.py).
    tracking_plan: TrackingPlan | None = declare(  # noqa: RUF009
        "",
        planfile.tracking_plan,
        "a tracking plan file (JSON): each event type's JSON Schemas, checked against every event (see "
        "[Tracking plan](tracking-plan.md)); read once at start-up and on SIGHUP; empty: no plan. Not with "
        "`COLLECTOR_EVENT_TYPES`",
        show=planfile.show_plan,
    )
    tracking_plan_mode: str = declare(
        "flag",
        values.choice("flag", "refuse"),
        "what an event breaking the plan gets: `flag` (stored with `planViolations`, counted) or `refuse` "
        "(the request gets 400 `tracking_plan_violation`, nothing stored)",
    )
    bots: str = declare(
        "flag",
        values.choice("flag", "refuse", "off"),
        "known bots (crawlers, headless browsers, monitors, link previews): `flag` stores their events with "
        "`client.bot`, `refuse` answers 403 and stores nothing, `off` stores no `bot` key; see [Bots](bots.md)",
    )
    bot_patterns: tuple[str, ...] = declare(
        "",
        parse_patterns,
        "the team's own bots: comma-separated regular expressions, matched case-insensitively in the User-Agent "
        "(category `custom`; at most 50, of 200 characters each); empty: none",
    )
    # Outside the data directory (checks.py): see docs/suppression.md.
    suppressed_ids_file: SuppressedIds | None = declare(  # noqa: RUF009
        "",
        suppressedfile.suppressed_ids,
        "a file of ids of people who asked not to be collected, one per line (`#` comments; at most 1000000 "
        "ids of 256 characters), outside the data directory: a request whose event has one as `userId` or "
        "`anonymousId` gets 403 `suppressed`, nothing stored; read at start-up and on SIGHUP; empty: off. See "
        "[Suppression](suppression.md)",
        show=suppressedfile.show_suppressed,
    )
    # memcached keeps whole seconds (under 1 s would be 0: "never expires").
    idempotency_seconds: float = declare(
        "86400",
        values.number(1, values.YEAR_SECONDS, "seconds"),
        "how long a request's `Idempotency-Key` (and, with dedupe, an event's `eventId`) is remembered",
    )
    idempotency_timeout: float = declare(
        "0.5",
        values.number(0.01, 1, "seconds"),
        "seconds a request waits for the idempotency state's SQLite file (each of at most 5 waits); a keyed "
        "request's claim that gives up gets 503, nothing stored. At most 1 s: well under a proxy's timeout",
    )
    dedupe: str = declare(
        "off",
        values.choice("off", "event"),
        "`event`: an event whose `eventId` was stored within the window is not stored again",
    )
    dead_letter: str = declare(
        "off",
        values.choice("on", "off"),
        "`on` keeps every rejected request (body, status, code, message, client, time) under `deadletters/`",
    )
    dead_letter_max_body_bytes: int = declare(
        "65536", values.body_bytes, "a dead letter keeps at most this much of the request body"
    )
    dead_letter_max_bytes: int = declare(
        "104857600",
        values.disk_bytes,
        "all dead letters together stay under this size: the oldest files go first",
    )
    clock_skew_seconds: float = declare(
        "60",
        values.number(0.001, values.YEAR_SECONDS, "seconds"),
        "correct events' `timestamp` by the client's clock skew (`receivedAt - messageheader.sentAt`) past this",
    )
    max_event_age_days: float = declare(
        "30",
        # A century back from now is still a date RFC 3339 can write (year 1 or later).
        values.number(0.001, 36500, "days"),
        "events older than this (after correction) are stored flagged `timestampFlag: old`",
    )
    rotate_bytes: int = declare("67108864", values.disk_bytes, "start a new file past this size")
    # Idle files are checked once a second: a shorter age could not be honoured.
    rotate_seconds: float = declare(
        "3600",
        values.number(1, values.YEAR_SECONDS, "seconds"),
        "start a new file after this age (also when no event comes)",
    )
    fsync: str = declare(
        "interval",
        values.choice("always", "interval", "never"),
        "when events reach the disk: `always`, `interval` or `never`; "
        "see [Durability](stored-lines-and-files.md#durability)",
    )
    fsync_seconds: float = declare(
        # An idle worker wakes up this often: 100 times a second at most.
        "1", values.number(0.01, 60, "seconds"), "with `interval`, the longest time written events wait for an fsync"
    )
    compress: str = declare(
        "none", values.choice("none", "gzip"), "`gzip` compresses finished files in the background"
    )
    retention_days: float | None = declare(
        "",
        values.optional(values.number(0.001, 36500, "days")),
        "delete finished files whose last event is older than this many days; empty keeps them",
    )
    retention_bytes: int | None = declare(
        "",
        values.optional(values.disk_bytes),
        "delete the oldest finished files while all finished files total more than this; empty keeps them",
    )
    workers: int | None = declare(
        "auto",
        values.workers,
        "gunicorn worker processes; `auto`: 1 per core with `sqlite://` or memcached storage, "
        "1 with `memory://` (which allows no more)",
        show=values.show_workers,
    )
    threads: int = declare("4", values.threads, "threads per worker")
    bind: str = declare(
        "127.0.0.1:8000",
        places.bind,
        "gunicorn's bind address: `HOST:PORT`, `[IPv6]:PORT` or `unix:/run/collector.sock`",
    )
    log_level: str = declare(
        "info",
        values.choice("debug", "info", "warning", "error"),
        "level of the service's own log lines: `debug`, `info`, `warning` or `error`",
    )
    log_format: str = declare(
        "json",
        values.choice("json", "text"),
        "`json`: one JSON object per log line, access log included (for the journal, Loki, jq); "
        "`text`: plain lines for a person at a terminal",
    )
    access_log: str = declare(
        "on",
        values.choice("on", "off"),
        "gunicorn's access log, a line per request; `off` behind nginx, which logs every request already",
    )
    host_name: str = declare(
        "",
        places.host_name,
        "this instance's name in its file names (`[A-Za-z0-9._-]`, up to 64); empty: the machine's host name",
    )
    console_key: str = declare(
        "",
        access.console_key,
        "the key of `collector console` (HTTP Basic password or Bearer token); needed to bind it to "
        "anything but loopback; empty: loopback only, no key",
        show=access.show_secret,
        secret=True,
    )

    def describe(self) -> dict[str, str]:
        """Every setting as its variable and its value as shown, for the start-up log line and `collector settings`."""
        shown = {setting.env: setting.show(getattr(self, setting.name)) for setting in declarations()}
        # The idempotency state has no setting of its own: the value it follows says so
        # (briefly: it widens the value column of `collector settings`).
        if self.idempotency_in_memcached or self.rate_limit_storage == places.SQLITE:
            shown[PREFIX + "RATE_LIMIT_STORAGE"] += " (idempotency state too)"
        else:
            shown[PREFIX + "RATE_LIMIT_STORAGE"] += " (idempotency state: SQLite in the data dir)"
        return shown

    @property
    def idempotency_in_memcached(self) -> bool:
        """Whether the idempotency state is in the rate limits' memcached; if not, in a SQLite file in the data dir."""
        return self.rate_limit_storage.startswith(places.MEMCACHED)

    @property
    def shares_limits(self) -> bool:
        """Whether rate-limit counters live outside the process, shared by its workers (and, in memcached, by VMs)."""
        return self.rate_limit_storage != places.MEMORY

    @property
    def write_keys(self) -> frozenset[str]:
        """Every write key, from the variable and the file; empty: no key is needed."""
        return self.api_keys | (self.api_keys_file or frozenset())

    def worker_processes(self) -> int:
        """COLLECTOR_WORKERS with `auto` resolved: one per core when limits are shared, else one."""
        if self.workers is not None:
            return self.workers
        return (os.cpu_count() or 1) if self.shares_limits else 1


@functools.cache
def declarations() -> tuple[Setting, ...]:
    """Every setting, in the order of `Settings`' fields."""
    return tuple(
        Setting(name=field.name, env=PREFIX + field.name.upper(), **field.metadata[KEY])
        for field in dataclasses.fields(Settings)
    )
