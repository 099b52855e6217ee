"""Health checks for load balancers and monitors: never rate-limited.

`/healthz` says the process answers; `/readyz` says it can store events now,
so a load balancer stops sending events to an instance whose disk is full.
Neither tells a client anything about the host: `/readyz` answers only its
status and, when not ready, the reason (`storage_unavailable` and the
system's error, e.g. "No space left on device"); the data directory's path,
which may name a mount or a customer, goes to the log, once per outage
(a load balancer asks every few seconds).
"""

from __future__ import annotations

import logging
import tempfile
import threading
from pathlib import Path

import flask

from .. import datadir
from ..errors import STORAGE_UNAVAILABLE, error_response

logger = logging.getLogger(__name__)

bp = flask.Blueprint("health", __name__)
_EXTENSION = "collector.readyz"


class _Readiness:
    """The data directory /readyz writes to, and whether it last failed, so that each outage is logged once."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.failing = False
        self.lock = threading.Lock()

    def changed(self, failing: bool) -> bool:
        with self.lock:
            changed, self.failing = self.failing != failing, failing
        return changed


@bp.get("/healthz")
def healthz() -> flask.Response:
    return flask.jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> flask.Response:
    readiness: _Readiness = flask.current_app.extensions[_EXTENSION]
    data_dir = readiness.data_dir
    try:
        # Never re-created after start-up (collector/datadir.py): renamed away or
        # its mount lost, the service is not ready until it is back.
        datadir.check(data_dir)
        # A real write, not os.access(): root passes access checks on a full or
        # read-only disk, and only a write finds either.
        with tempfile.TemporaryFile(dir=data_dir, prefix=".readyz-") as probe:
            probe.write(b"ok")
            probe.flush()
    except OSError as error:
        if readiness.changed(failing=True):
            logger.warning("readyz: the data directory %s is not writable: %s", data_dir, error.strerror)
        return error_response(STORAGE_UNAVAILABLE, f"the data directory is not writable: {error.strerror}")
    if readiness.changed(failing=False):
        logger.info("readyz: the data directory %s is writable again", data_dir)
    return flask.jsonify(status="ok")


def init_app(app: flask.Flask, data_dir: Path) -> None:
    """Keep the data directory (COLLECTOR_DATA_DIR) /readyz checks: handed in, as ops reads no service."""
    app.extensions[_EXTENSION] = _Readiness(data_dir)
