"""Operating the service: health checks, metrics and logs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import flask

from . import health, instrument, logs, metrics
from .instrument import count_accepted_events, count_bot_events, count_requests, count_time_flags

__all__ = [
    "count_accepted_events",
    "count_bot_events",
    "count_requests",
    "count_time_flags",
    "init_app",
    "logs",
    "metrics",
]


def init_app(
    app: flask.Flask, event_types: frozenset[str], data_dir: Path, plan_types: Sequence[str] | None = None
) -> None:
    """Operators' endpoints, never rate-limited: /healthz, /readyz (of `data_dir`), /metrics; and the metrics' state.

    `plan_types`: the event types the tracking plan names (None: no plan), for the plan violations' labels.

    The counting of every answer is a layer (`count_requests`), placed by collector/stack.py.
    """
    app.register_blueprint(health.bp)
    app.register_blueprint(metrics.bp)
    health.init_app(app, data_dir)
    instrument.init_app(app, event_types, plan_types)
