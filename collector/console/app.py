"""The console's WSGI app: the page, its static files and the JSON API, read-only over the data directory.

`create_app` wires: the key check, or without a key the Host check (auth.py) -> the API (below) and the page
(static/) -> the collector's error envelope (errors.py) -> security headers.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import flask
import orjson

from .. import errors
from ..deadletters import letters as deadletters
from ..errors import INVALID_QUERY, CollectorError
from ..settings import Settings
from . import auth, letters, search, timerange
from .counts import EXCLUDE, ONLY
from .rejections import Rejections
from .stores import Stores, latest_letters, shown

STATIC = Path(__file__).resolve().parent / "static"
MAX_EVENTS = 1000
DEFAULT_EVENTS = 100
MAX_MINUTES = 10080  # 7 days
HOURLY_PAST_MINUTES = 1440  # past a day, a point per hour
LATEST_DEAD_LETTERS = 20
# Replay writes: only a console that asks for its key may offer it (a loopback console answers anyone on the VM).
REPLAY_NEEDS_KEY = "--allow-replay needs COLLECTOR_CONSOLE_KEY: a console that replays must ask for its key"
REPLAY_INTO_ONE = (
    "--allow-replay replays into the one data directory the console reads: name one with --data-dir "
    "(or none, for COLLECTOR_DATA_DIR), never copies shipped from other VMs"
)
# The page and the API: nothing from another origin, no inline script or style,
# never framed. Every event value reaches the page as JSON and is shown with
# textContent, so an event holding markup shows it as text; this stops the rest.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def create_app(
    settings: Settings,
    key: str | None,
    rejections: Rejections | None = None,
    data_dirs: Sequence[Path] = (),
    allow_replay: bool = False,
) -> flask.Flask:
    """The console over `data_dirs` (default `settings.data_dir`); with `key`, every request must carry it (auth.py).

    `allow_replay` (`collector console --allow-replay`) adds the one route that writes, and needs `key` and one
    data directory, `settings.data_dir`, the one a replay stores into.
    """
    if allow_replay and not key:
        raise ValueError(REPLAY_NEEDS_KEY)
    if allow_replay and list(data_dirs) not in ([], [settings.data_dir]):
        raise ValueError(REPLAY_INTO_ONE)
    app = flask.Flask(__name__, static_folder=str(STATIC), static_url_path="/static")
    # One StoreIndex per data directory, answering as one (stores.py): a VM's own directory and the
    # copies shipped from others, each event named by its instance; one directory answers as before.
    index = Stores(data_dirs or [settings.data_dir], event_types=settings.event_types)
    dead_letters = {name: LatestDeadLetters(path) for name, path in index.directories.items()}
    app.extensions["collector.console"] = index
    if key:
        app.before_request(auth.require_key(key))
    else:
        app.before_request(auth.require_loopback_host)

    @app.get("/")
    def page() -> flask.Response:
        return flask.send_from_directory(STATIC, "index.html", max_age=0)

    @app.get("/api/events")
    def events() -> flask.Response:
        limit, event_type, query, bots = _events_criteria()
        index.refresh()
        found = index.newest(limit, event_type, query, bots)
        # Beside the stored fields (and the instance, with several data directories), the client's name the
        # table shows and `client =` finds (clients.py).
        return _json(
            {"events": [{**shown(instance, event, index.several), "clientName": event.client_name}
                        for instance, event in found]}
        )

    @app.get("/api/series")
    def series() -> flask.Response:
        minutes, step, until = _series_window()
        bots = _bots_parameter()
        index.refresh()
        return _json({"step_seconds": step, "series": index.series(minutes, step, bots, until)})

    @app.get("/api/overview")
    def overview() -> flask.Response:
        """What the page shows beside the events: top types, people and bots, rejections, plan violations,
        dead letters, the store."""
        bots = _bots_parameter()
        index.refresh()
        if rejections is not None:
            rejections.fresh()
        store, per_instance = index.store_panel()
        return _json(
            {
                "topTypes": [[name, count] for name, count in index.top_types(60, bots=bots)],
                # Every event, whatever `bots` says: the share is what a reader decides by.
                "botShare": [list(row) for row in index.bot_share(60)],
                "rejections": {
                    "lastHour": rejections.last_hour() if rejections else {},
                    "problem": None if rejections is None else rejections.problem,
                },
                # Beside the rejections, from the same samples of the collector's metrics.
                "planViolations": {"lastHour": rejections.plan_violations_last_hour() if rejections else []},
                "deadLetters": latest_letters(
                    {name: kept.latest() for name, kept in dead_letters.items()}, LATEST_DEAD_LETTERS
                ),
                "store": store_facts(settings, store),
                "unreadableLines": index.unreadable_lines(),
                "damagedFiles": index.damaged(),
                # With several directories: "instances" and the store panel of each ("stores").
                **per_instance,
            }
        )

    letters.add_routes(app, settings, index.directories, allow_replay=allow_replay)

    @app.after_request
    def secure(response: flask.Response) -> flask.Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if flask.request.path.startswith("/api/"):
            response.headers["Cache-Control"] = "no-store"
        return response

    errors.init_app(app)
    return app


class LatestDeadLetters:
    """The newest dead letters, read as the index reads events: only what was written since the last look.

    The dead-letter directory may hold up to COLLECTOR_DEAD_LETTER_MAX_BYTES;
    the page asks every few seconds, so it is never read whole again.
    """

    def __init__(self, data_dir: Path, limit: int = LATEST_DEAD_LETTERS) -> None:
        self.data_dir = data_dir
        self._offsets: dict[str, int] = {}
        self._latest: deque[dict[str, Any]] = deque(maxlen=limit)
        self._lock = threading.Lock()

    def latest(self) -> list[dict[str, Any]]:
        """The newest first, without their bodies (which may be large)."""
        with self._lock:
            for letter in deadletters.read_new(self.data_dir, self._offsets):
                self._latest.append({key: value for key, value in letter.items() if not key.startswith("body")})
            return sorted(self._latest, key=lambda letter: str(letter.get("receivedAt", "")), reverse=True)


def store_facts(settings: Settings, files: dict[str, Any]) -> dict[str, Any]:
    """The store panel: the files (`Stores.store_panel`), and the retention settings."""
    return {
        **files,
        "retentionDays": settings.retention_days,
        "retentionBytes": settings.retention_bytes,
        "compress": settings.compress,
    }


def _json(body: Any) -> flask.Response:
    return flask.Response(orjson.dumps(body), mimetype="application/json")


def _int_parameter(name: str, default: int, lowest: int, highest: int) -> int:
    raw = _text_parameter(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit() and lowest <= int(raw) <= highest):
        raise CollectorError(
            INVALID_QUERY, f"query parameter {name} must be a whole number from {lowest} to {highest}; got {raw!r}"
        )
    return int(raw)


def _events_criteria() -> tuple[int, str | None, search.Search, str | None]:
    """`/api/events`' limit, type, search (q, from, to) and bots, as StoreIndex.newest takes them."""
    limit = _int_parameter("limit", DEFAULT_EVENTS, 1, MAX_EVENTS)
    event_type = _text_parameter("type")
    since, until = _instant_parameter("from"), _instant_parameter("to")
    if since is not None and until is not None and since >= until:
        raise CollectorError(INVALID_QUERY, "query parameter from must be before to")
    return limit, event_type, search.parse(_text_parameter("q") or "", since, until), _bots_parameter()


def _series_window() -> tuple[int, int, float | None]:
    """(minutes, step, until) of `/api/series`: the last `minutes`, or `from` to `to` (now) within the counts kept."""
    since, until = _instant_parameter("from"), _instant_parameter("to")
    if since is None:
        if until is not None:
            raise CollectorError(INVALID_QUERY, "query parameter to needs from")
        minutes = _int_parameter("minutes", 60, 1, MAX_MINUTES)
        return minutes, 3600 if minutes > HOURLY_PAST_MINUTES else 60, None
    if _text_parameter("minutes") is not None:
        raise CollectorError(INVALID_QUERY, "give query parameter minutes or from (and to), not both")
    now = time.time()
    return timerange.series_window(since, now if until is None else until, now)


def _instant_parameter(name: str) -> float | None:
    raw = _text_parameter(name)
    return None if raw is None else timerange.instant(name, raw)


def _bots_parameter() -> str | None:
    """`bots`: `exclude` (people only) or `only` (bots only); absent: every event."""
    value = _text_parameter("bots")
    if value not in (None, EXCLUDE, ONLY):
        raise CollectorError(INVALID_QUERY, f"query parameter bots must be {EXCLUDE} or {ONLY}; got {value!r}")
    return value


def _text_parameter(name: str) -> str | None:
    values = flask.request.args.getlist(name)
    if not values:
        return None
    if len(values) > 1:
        raise CollectorError(INVALID_QUERY, f"query parameter {name} given {len(values)} times; give it once")
    if not values[0] or len(values[0]) > 256:
        raise CollectorError(INVALID_QUERY, f"query parameter {name} must be 1-256 characters")
    return values[0]

