"""Counting what the service answers: one WSGI middleware around everything, and the accepted events.

The middleware is the outermost layer of the app, so it sees every response,
also those no Flask code makes (a worker replaying a 429, see
collector/ratelimit/refusals.py). It counts each one by path and status, by
error code when the request's record holds one (every error response leaves
its code there, see collector/request/record.py; the replay too), and times
the POSTs of the data path's routes (`/collect/event` and the Segment-compatible
`/v1/` routes: collector/stack.py passes them in, as ops does not import ingest).
The views report accepted events through `count_accepted_events`, once they are stored,
and bots' events through `count_bot_events` (stored, or refused by COLLECTOR_BOTS=refuse).

The request path stays cheap: the label children each counter needs are
bound once and kept in dicts (a `.labels()` call costs more than the
increment itself), so a request costs a few dict lookups and mmap writes.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import flask

from ..bots import CATEGORIES
from ..errors import CODES
from ..errors import RATE_LIMITED as RATE_LIMITED_ERROR
from ..request import record
from .metrics import (
    BOT_EVENTS,
    EVENTS_ACCEPTED,
    FILES_FINISHED,
    PLAN_VIOLATIONS,
    RATE_LIMIT_UNCHECKED,
    RATE_LIMITED,
    REJECTED,
    REQUEST_DURATION,
    REQUESTS,
    TIME_FLAGGED_EVENTS,
    WORKERS,
)

_EXTENSION = "collector.metrics"

# The `path` label takes these values, the data path's routes (each path a
# client sends to labelled by its route, see collector/ingest/routes.py) and
# `other`: a label per requested path would let any client add series
# (GET /anything-at-all).
PATHS = ("/healthz", "/readyz", "/metrics")
OTHER = "other"

# Accepted events get a series per event type, and event types come from
# clients: without a bound, a client sending random types would add a series
# (a line in every scrape, memory in Prometheus) per type, forever. So each
# worker process labels the first MAX_EVENT_TYPES types it sees and counts the
# rest as `other` (a client's own type "other" is counted there too). With
# COLLECTOR_EVENT_TYPES set, only its types can be accepted: the allow-list is
# the bound. The whole service shows at most MAX_EVENT_TYPES types per worker
# that ever ran, since workers see types in their own order.
MAX_EVENT_TYPES = 100

# Plan violations get a series per event type and JSON pointer. The types are
# bounded by the plan (a type it does not name is `other`), but the pointers
# are not: with `additionalProperties: false` each unexpected key a client
# sends is a pointer of its own, and so is each index of an array. So each
# worker process labels the first MAX_PLAN_PATHS (type, pointer) pairs it sees
# and counts the rest of each type under the path `other`.
MAX_PLAN_PATHS = 100

# Label values known in advance, set to 0 at start so that a series exists
# before its first increment (Prometheus' rate() misses an increment that
# makes a series appear).
FINISH_REASONS = ("rotated", "stopped", "failed", "recovered")
UNCHECKED_OUTCOMES = ("admitted", "refused")


class CountRequests:
    """WSGI middleware: count every response by path and status (and error code); time the POSTs of `routes`.

    `routes` maps each path clients post events to onto its route, the label it is counted and timed under.
    """

    def __init__(self, app: Callable, routes: Mapping[str, str]) -> None:
        self.app = app
        self._paths = {**{path: path for path in PATHS}, **routes}
        self._timed = {path: REQUEST_DURATION.labels(path=route).observe for path, route in routes.items()}
        self._requests: dict[tuple[str, str], Any] = {}
        self._rejected = {code: REJECTED.labels(code=code) for code in CODES}
        self._rate_limited = {False: RATE_LIMITED.labels(replayed="false"), True: RATE_LIMITED.labels(replayed="true")}

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        started = time.perf_counter()
        status = "500"  # an exception that escapes the app becomes gunicorn's 500

        def recording_start_response(line: str, headers: list, exc_info: Any = None) -> Callable:
            nonlocal status
            status = line[:3]
            return start_response(line, headers, exc_info)

        try:
            return self.app(environ, recording_start_response)
        finally:
            self._count(environ, status, started)

    def _count(self, environ: dict, status: str, started: float) -> None:
        sent = environ.get("PATH_INFO", "")
        path = self._paths.get(sent, OTHER)
        requests = self._requests.get((path, status))
        if requests is None:
            requests = self._requests.setdefault((path, status), REQUESTS.labels(path=path, status=status))
        requests.inc()
        answered = record.of(environ)
        code = answered.error_code
        if code is not None:
            self._rejected_child(code).inc()
            if code == RATE_LIMITED_ERROR.code:
                self._rate_limited[answered.replayed_refusal].inc()
        if environ.get("REQUEST_METHOD") == "POST":
            observe = self._timed.get(sent)
            if observe is not None:
                observe(time.perf_counter() - started)

    def _rejected_child(self, code: str) -> Any:
        child = self._rejected.get(code)
        if child is None:
            # werkzeug's statuses without a code of their own (`http_<status>`): few.
            child = self._rejected.setdefault(code, REJECTED.labels(code=code))
        return child


class EventTypeCounter:
    """Counts accepted events by type, with at most `limit` distinct labels (see MAX_EVENT_TYPES)."""

    def __init__(self, allowed: frozenset[str] = frozenset(), limit: int = MAX_EVENT_TYPES) -> None:
        self._allowed = allowed
        self._limit = limit
        self._children: dict[str, Any] = {}
        self._lock = threading.Lock()

    def count(self, events: Sequence[Mapping[str, Any]]) -> None:
        """Count validated events (each has an `eventType`)."""
        if len(events) == 1:
            self._child(events[0]["eventType"]).inc()
            return
        for event_type, count in collections.Counter(event["eventType"] for event in events).items():
            self._child(event_type).inc(count)

    def _child(self, event_type: str) -> Any:
        child = self._children.get(event_type)
        return child if child is not None else self._bind(event_type)

    def _bind(self, event_type: str) -> Any:
        with self._lock:
            if event_type in self._children:
                return self._children[event_type]
            if self._allowed:
                label = event_type if event_type in self._allowed else OTHER
            else:
                label = event_type if len(self._children) < self._limit else OTHER
            child = EVENTS_ACCEPTED.labels(event_type=label)
            if label == event_type:
                self._children[event_type] = child
            return child


class PlanViolationCounter:
    """Counts flagged events by type and JSON pointer, with at most `limit` distinct pairs (see MAX_PLAN_PATHS)."""

    def __init__(self, plan_types: Iterable[str] = (), limit: int = MAX_PLAN_PATHS) -> None:
        self._plan_types = frozenset(plan_types)
        self._limit = limit
        self._children: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def count(self, events: Sequence[Mapping[str, Any]]) -> None:
        """Count the events that carry `planViolations`, once per event and path."""
        for event in events:
            violations = event.get("planViolations")
            if violations:
                event_type = event["eventType"] if event["eventType"] in self._plan_types else OTHER
                for path in dict.fromkeys(violation["path"] for violation in violations):  # in order, once each
                    self._child(event_type, path).inc()

    def _child(self, event_type: str, path: str) -> Any:
        child = self._children.get((event_type, path))
        if child is not None:
            return child
        with self._lock:
            if (event_type, path) in self._children:
                return self._children[(event_type, path)]
            if len(self._children) >= self._limit:
                return PLAN_VIOLATIONS.labels(event_type=event_type, path=OTHER)
            child = self._children[(event_type, path)] = PLAN_VIOLATIONS.labels(event_type=event_type, path=path)
            return child


def count_accepted_events(events: Sequence[Mapping[str, Any]]) -> None:
    """Count the events of the current request, stored and about to be acknowledged (and those flagged by the plan)."""
    counters = flask.current_app.extensions[_EXTENSION]
    counters.accepted.count(events)
    if counters.violations is not None:
        counters.violations.count(events)


_FLAG = b'"timestampFlag":"'


def count_time_flags(lines: Sequence[bytes]) -> None:
    """Count the stored lines that carry a timestampFlag (a C substring search per line)."""
    for line in lines:
        at = line.find(_FLAG)
        if at >= 0:
            flag = line[at + len(_FLAG) : line.index(b'"', at + len(_FLAG))].decode()
            TIME_FLAGGED_EVENTS.labels(flag=flag).inc()


BOT_OUTCOMES = ("stored", "refused")


def count_bot_events(categories: Mapping[str, int], outcome: str) -> None:
    """Count a request's bot events by category (bots.CATEGORIES: a bounded label), `stored` or `refused`."""
    for category, events in categories.items():
        BOT_EVENTS.labels(category=category, outcome=outcome).inc(events)


def count_requests(routes: Mapping[str, str]) -> Callable[[Callable], CountRequests]:
    """The layer that counts every answer: outermost, so that it wraps every other one.

    `routes`: the data path's paths -> their routes (see `CountRequests`).
    """
    return functools.partial(CountRequests, routes=routes)


@dataclasses.dataclass(frozen=True)
class EventCounters:
    accepted: EventTypeCounter
    violations: PlanViolationCounter | None  # None: no tracking plan, no event can be flagged


def init_app(app: flask.Flask, event_types: frozenset[str], plan_types: Sequence[str] | None = None) -> None:
    """The counters of accepted and flagged events, and the series known in advance (see FINISH_REASONS).

    `plan_types`: the event types the tracking plan names; None without a plan.
    """
    violations = None if plan_types is None else PlanViolationCounter(plan_types)
    app.extensions[_EXTENSION] = EventCounters(EventTypeCounter(event_types), violations)
    for reason in FINISH_REASONS:
        FILES_FINISHED.labels(reason=reason)
    for outcome in UNCHECKED_OUTCOMES:
        RATE_LIMIT_UNCHECKED.labels(outcome=outcome)
    for flag in ("future", "old"):
        TIME_FLAGGED_EVENTS.labels(flag=flag)
    for category in CATEGORIES:
        for outcome in BOT_OUTCOMES:
            BOT_EVENTS.labels(category=category, outcome=outcome)
    WORKERS.set(1)
