"""collector: a self-hosted event collection service.

`create_app` wires the parts together and does nothing else:
settings -> logging -> writer -> limiter -> proxy fix -> blueprints (events, health, metrics) -> errors.
"""

from __future__ import annotations

import atexit
import logging
from collections.abc import Mapping
from typing import Any

import flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import errors, health, limits, logs, metrics, views
from .schemas import RequestValidator
from .settings import Settings, load_settings
from .maintenance import Maintenance
from .writer import EventWriter

logger = logging.getLogger(__name__)


def create_app(overrides: Mapping[str, Any] | None = None) -> flask.Flask:
    """Build the WSGI app from the environment, with `overrides` (field name -> value) on top."""
    settings = load_settings(overrides=overrides)
    logs.configure(settings.log_level)

    app = flask.Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes

    writer = build_writer(settings)
    atexit.register(writer.close)
    app.extensions["collector"] = views.Collector(
        settings=settings,
        validator=RequestValidator(settings.max_events, settings.event_types),
        writer=writer,
    )

    limits.init_app(app, settings, limited=views.bp, event_count=views.event_count)
    if settings.trusted_proxies:
        # Outermost, so every layer inside (the limiter's middleware too) sees the client's address.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies)  # type: ignore[method-assign]
    app.register_blueprint(views.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(metrics.bp)
    errors.init_app(app)

    logger.info("collector configured: %s", settings.describe())
    return app


def build_writer(settings: Settings) -> EventWriter:
    maintenance = Maintenance(
        data_dir=settings.data_dir,
        compress=settings.compress,
        retention_days=settings.retention_days,
        retention_bytes=settings.retention_bytes,
    )
    return EventWriter(
        data_dir=settings.data_dir,
        rotate_bytes=settings.rotate_bytes,
        rotate_seconds=settings.rotate_seconds,
        host_name=settings.host_name,
        fsync=settings.fsync,
        fsync_seconds=settings.fsync_seconds,
        on_finish=maintenance.wake,
    )
