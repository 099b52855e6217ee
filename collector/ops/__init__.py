"""Operating the service: health checks, metrics and logs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import flask

from . import health, instrument, logs, metrics
from .instrument import count_accepted_events, count_time_flags

if TYPE_CHECKING:
    from ..settings import Settings

__all__ = ["count_accepted_events", "count_time_flags", "init_app", "logs", "metrics"]


def init_app(app: flask.Flask, settings: Settings, routes: Mapping[str, str]) -> None:
    """The operators' endpoints, never rate-limited: /healthz, /readyz, /metrics; and the counting of every answer.

    `routes` maps each path clients post events to onto its route (collector.ingest.ROUTES), which
    labels and times it in the metrics. Call after every other layer is wrapped around `app.wsgi_app`:
    the counting wraps them all.
    """
    app.register_blueprint(health.bp)
    app.register_blueprint(metrics.bp)
    instrument.init_app(app, settings.event_types, routes)
