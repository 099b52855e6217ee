"""Operating the service: health checks, metrics and logs."""

from __future__ import annotations

import flask

from . import health, logs, metrics

__all__ = ["init_app", "logs", "metrics"]


def init_app(app: flask.Flask) -> None:
    """The operators' endpoints, never rate-limited: /healthz, /readyz, /metrics."""
    app.register_blueprint(health.bp)
    app.register_blueprint(metrics.bp)
    app.after_request(logs.leave_for_access_log)
