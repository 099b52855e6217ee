"""Every Prometheus metric of the service, declared once, and GET /metrics, which is never rate-limited.

Under gunicorn several worker processes count. prometheus_client's
multiprocess mode adds their counts up, so a scrape that lands on any worker
sees the whole service: gunicorn.conf.py sets PROMETHEUS_MULTIPROC_DIR to an
empty directory before anything imports prometheus_client, and tells
prometheus_client when a worker is gone. Each counter then lives in a
per-process mmap'd file: an increment is a write to shared memory, about a
microsecond, and a worker's counts outlive it, so the sums never go backwards
when a worker dies or restarts. Without that variable (one process, the tests) the default
registry is the whole service.

Where each metric is counted: `instrument.py` (every response, by path,
status and error code, the request duration, accepted events by type), the
store (bytes, files, fsync failures, compression, retention) and the rate
limiter (storage errors, unchecked requests). docs/operating.md's "Metrics" table
lists them for operators; a test keeps it equal to this module.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable

import flask
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.metrics_core import Metric

bp = flask.Blueprint("metrics", __name__)

# Defined once per process, as prometheus_client requires: a second
# definition (one per create_app) would be refused as a duplicate.

# -- requests (collector/ops/instrument.py) -------------------------------

REQUESTS = Counter(
    "collector_requests",
    "HTTP requests answered, by path (/collect/event, /v1/batch, /v1/<call> for the single Segment calls, "
    "/healthz, /readyz, /metrics, or other) and status code",
    ["path", "status"],
)
REJECTED = Counter(
    "collector_rejected_requests",
    "Requests answered with an error, by its stable code (the `code` of the JSON body, "
    "the error table of docs/api.md), whatever the path: /readyz's 503 is storage_unavailable",
    ["code"],
)
RATE_LIMITED = Counter(
    "collector_rate_limited_requests",
    "Requests refused with 429 for their rate limit: by flask-limiter (replayed=false), or by a "
    "worker replaying its refusal to a client already over its limit in this window (replayed=true)",
    ["replayed"],
)
# Buckets for a service answering in about a millisecond: 1 ms up to the
# slow tail (a slow disk, memcached timing out at COLLECTOR_RATE_LIMIT_TIMEOUT).
DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
REQUEST_DURATION = Histogram(
    "collector_request_duration_seconds",
    "Time to answer a POST of events, whatever the answer, by path (/collect/event, /v1/batch, /v1/<call>), "
    "from the WSGI call to the response (gunicorn's and nginx's time on top are not in it)",
    ["path"],
    buckets=DURATION_BUCKETS,
)
EVENTS_ACCEPTED = Counter(
    "collector_events_accepted",
    "Events stored and acknowledged (201; 200 on the Segment routes), by eventType "
    "(at most 100 types per worker process, "
    "or the types of COLLECTOR_EVENT_TYPES; any other type is counted as `other`)",
    ["event_type"],
)
DUPLICATE_EVENTS = Counter(
    "collector_duplicate_events",
    "Events not stored again because their eventId was stored within the window (COLLECTOR_DEDUPE=event)",
)
IDEMPOTENT_REPLAYS = Counter(
    "collector_idempotent_replays",
    "Requests answered with the 201 of an earlier request with the same Idempotency-Key; nothing stored",
)
CORS_PREFLIGHTS_REFUSED = Counter(
    "collector_cors_preflights_refused",
    "CORS preflights answered without the allow headers (an Origin not in COLLECTOR_CORS_ORIGINS, or a method other "
    "than POST), by that Origin (at most 20 origins per worker process; the rest, and any value that is not an "
    "origin, as `other`)",
    ["origin"],
)
PLAN_VIOLATIONS = Counter(
    "collector_plan_violations",
    "Events stored flagged as breaking the tracking plan (COLLECTOR_TRACKING_PLAN_MODE=flag), by eventType (a type "
    "the plan names, or `other`) and the JSON pointer of the fault within the event (at most 100 type and path pairs "
    "per worker process, the rest as path `other`); an event counts once per path",
    ["event_type", "path"],
)
TIME_FLAGGED_EVENTS = Counter(
    "collector_time_flagged_events",
    "Events stored with a timestampFlag: more than an hour in the future, or older than "
    "COLLECTOR_MAX_EVENT_AGE_DAYS (after clock-skew correction)",
    ["flag"],
)
BOT_EVENTS = Counter(
    "collector_bot_events",
    "Events from known bots (COLLECTOR_BOTS; see docs/bots.md), by category (crawler, headless, monitor, preview, "
    "custom) and outcome: stored flagged with client.bot, or refused (403 bot_refused, with COLLECTOR_BOTS=refuse)",
    ["category", "outcome"],
)
DEAD_LETTERS = Counter(
    "collector_dead_letters",
    "Refused requests kept as dead letters (COLLECTOR_DEAD_LETTER=on)",
)
DEAD_LETTERS_UNKEPT = Counter(
    "collector_dead_letters_unkept",
    "401s and refused CORS preflights not kept as dead letters: past 20 a second per worker process, only counted "
    "(each is in collector_rejected_requests all the same)",
)
INVALID_CLIENT_ADDRESSES = Counter(
    "collector_invalid_client_addresses",
    "Requests whose client address (from X-Forwarded-For behind a trusted proxy) was not an IP "
    "address; their events are stored without client.ip",
)
# Set to 1 by each worker once it has loaded the app; a dead worker's 1 is
# removed by gunicorn.conf.py's child_exit (`mark_process_dead`), or, after a
# kill -9 of the whole service (no master left to call it), by the next
# start (on_starting empties an operator's directory; ours is a new one each
# start). So this is the number of live workers that can answer. Right after
# a start it climbs one by one: gunicorn spawns the workers in turn, with
# pauses, and each loads the app on its own; a scrape answered by the first
# may be made before the last is up.
WORKERS = Gauge(
    "collector_workers",
    "Worker processes serving requests now",
    multiprocess_mode="livesum",
)

# -- rate limits (collector/ratelimit/outage.py) ---------------------------

RATE_LIMIT_UNCHECKED = Counter(
    "collector_rate_limit_unchecked_requests",
    "Requests whose rate limit could not be checked because the rate-limit storage failed, "
    "by what the service did with them (COLLECTOR_RATE_LIMIT_ON_ERROR)",
    ["outcome"],
)
RATE_LIMIT_STORAGE_ERRORS = Counter(
    "collector_rate_limit_storage_errors",
    "Calls to the rate-limit storage (memcached) that failed: refused, timed out or answered nonsense",
)

# -- the store (collector/store/) ------------------------------------------

BYTES_WRITTEN = Counter(
    "collector_bytes_written",
    "Bytes of JSON lines appended to the data files for acknowledged requests",
)
FILES_FINISHED = Counter(
    "collector_files_finished",
    "Data files finished (renamed to .jsonl), by reason: rotated (size or age), stopped (the worker "
    "stopped), failed (after a write failure), recovered (left .open by a dead worker, at start-up), "
    "asked (on request of a command such as `collector events forget`)",
    ["reason"],
)
FSYNC_FAILURES = Counter(
    "collector_fsync_failures",
    "fsync calls on a data file that failed; each makes its worker refuse events and restart",
)
FILES_COMPRESSED = Counter(
    "collector_files_compressed",
    "Finished files compressed to .jsonl.gz (COLLECTOR_COMPRESS=gzip)",
)
RETENTION_DELETED_FILES = Counter(
    "collector_retention_deleted_files",
    "Finished files deleted by retention (COLLECTOR_RETENTION_DAYS, COLLECTOR_RETENTION_BYTES)",
)
RETENTION_DELETED_BYTES = Counter(
    "collector_retention_deleted_bytes",
    "Bytes of the finished files deleted by retention",
)


@bp.get("/metrics")
def metrics() -> flask.Response:
    return flask.Response(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)


def _registry() -> CollectorRegistry:
    # prometheus_client's own switch, not a collector setting: it chose its
    # storage from this variable when it was imported, and we follow it.
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not path:
        return REGISTRY
    registry = CollectorRegistry()
    registry.register(_WorkersFiles(path))
    return registry


class _WorkersFiles:
    """prometheus_client's sum over the processes' files, leaving out those a starting worker has only just created.

    A process creates its file empty, then gives it its size; a scrape that
    reads it in between fails (prometheus_client's MultiProcessCollector
    raises, the scrape would be a 500), and such a file holds no count yet. A
    worker killed in that window leaves it empty for good. prometheus/client_python
    issue 1199; drop this once a release reads an empty file as empty.
    """

    def __init__(self, path: str) -> None:
        self.path = path

    def collect(self) -> Iterable[Metric]:
        return multiprocess.MultiProcessCollector.merge(
            [path for path in glob.glob(os.path.join(self.path, "*.db")) if _sized(path)], accumulate=True
        )


def _sized(path: str) -> bool:
    try:
        return os.stat(path).st_size > 0
    except FileNotFoundError:  # a live gauge's file, removed when its process died
        return False
