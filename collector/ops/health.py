"""Health checks for load balancers and monitors: never rate-limited.

`/healthz` says the process answers; `/readyz` says it can store events now,
so a load balancer stops sending events to an instance whose disk is full.
"""

from __future__ import annotations

import tempfile

import flask

from .. import datadir, service
from ..errors import STORAGE_UNAVAILABLE, error_response

bp = flask.Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> flask.Response:
    return flask.jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> flask.Response:
    data_dir = service.current().settings.data_dir
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
        return error_response(STORAGE_UNAVAILABLE, f"data directory {data_dir} is not writable: {error.strerror}")
    return flask.jsonify(status="ok", dataDir=str(data_dir))
