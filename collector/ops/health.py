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

import flask

from .. import service
from ..errors import STORAGE_UNAVAILABLE, error_response

logger = logging.getLogger(__name__)

bp = flask.Blueprint("health", __name__)
_EXTENSION = "collector.readyz"


class _Outage:
    """Whether /readyz last failed, so that each outage is logged once."""

    def __init__(self) -> None:
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
    data_dir = service.current().settings.data_dir
    outage: _Outage = flask.current_app.extensions.setdefault(_EXTENSION, _Outage())
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        # A real write, not os.access(): root passes access checks on a full or
        # read-only disk, and only a write finds either.
        with tempfile.TemporaryFile(dir=data_dir, prefix=".readyz-") as probe:
            probe.write(b"ok")
            probe.flush()
    except OSError as error:
        if outage.changed(failing=True):
            logger.warning("readyz: the data directory %s is not writable: %s", data_dir, error.strerror)
        return error_response(STORAGE_UNAVAILABLE, f"the data directory is not writable: {error.strerror}")
    if outage.changed(failing=False):
        logger.info("readyz: the data directory %s is writable again", data_dir)
    return flask.jsonify(status="ok")
