"""Prometheus metrics and GET /metrics, which is never rate-limited.

Under gunicorn several worker processes count. prometheus_client's
multiprocess mode adds their counts up, so a scrape that lands on any worker
sees the whole service: gunicorn.conf.py sets PROMETHEUS_MULTIPROC_DIR to a
fresh directory before anything imports prometheus_client. Without that
variable (one process, the tests) the default registry is the whole service.
"""

from __future__ import annotations

import os

import flask
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, generate_latest
from prometheus_client import multiprocess

bp = flask.Blueprint("metrics", __name__)

# Defined once per process, as prometheus_client requires: a second
# definition (one per create_app) would be refused as a duplicate.
RATE_LIMIT_UNCHECKED = Counter(
    "collector_rate_limit_unchecked_requests",
    "Requests whose rate limit could not be checked because the rate-limit storage failed, "
    "by what the service did with them (COLLECTOR_RATE_LIMIT_ON_ERROR)",
    ["outcome"],
)

INVALID_CLIENT_ADDRESSES = Counter(
    "collector_invalid_client_addresses",
    "Requests whose client address (from X-Forwarded-For behind a trusted proxy) was not an IP "
    "address; their events are stored without client.ip",
)


@bp.get("/metrics")
def metrics() -> flask.Response:
    return flask.Response(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)


def _registry() -> CollectorRegistry:
    # prometheus_client's own switch, not a collector setting: it chose its
    # storage from this variable when it was imported, and we follow it.
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry
