"""collector: a self-hosted event collection service.

`create_app` wires the packages together and does nothing else:
settings -> logging -> service (intake, writer, idempotency, dead letters) -> the packages' blueprints
and state -> the stack a request goes through, declared in one block (collector/stack.py).
"""

from __future__ import annotations

import atexit
import logging
from collections.abc import Mapping
from typing import Any

import flask

from .settings import load_settings, risks

logger = logging.getLogger(__name__)


def create_app(overrides: Mapping[str, Any] | None = None) -> flask.Flask:
    """Build the WSGI app from the environment, with `overrides` (field name -> value) on top.

    :raises SettingsError: naming the first variable with a bad value.
    """
    # Imported here, not above: importing any module of the package runs this
    # file, and collector/metricsdir.py must be importable before prometheus_client
    # is (gunicorn's configuration sets PROMETHEUS_MULTIPROC_DIR first).
    from . import deadletters, errors, idempotency, ingest, openapi, ops, ratelimit, service, stack, store

    settings = load_settings(overrides=overrides)
    ops.logs.configure(settings.log_level, settings.log_format)

    # No static files to serve: no /static/ route.
    app = flask.Flask(__name__, static_folder=None)
    errors.route_paths_as_written(app)
    writer = store.build_writer(settings)
    atexit.register(writer.close)
    collector = service.Collector(
        settings=settings,
        intake=ingest.Intake.from_settings(settings),
        writer=writer,
        idempotency=idempotency.build(settings),
        dead_letters=deadletters.build(settings),
    )
    service.install(app, collector)
    keys = ingest.WriteKeys(settings.write_keys)
    limits = ratelimit.build(
        settings, limited=ingest.bp, count_events=ingest.event_count, key_id=keys.id_of, paths=ingest.ROUTES
    )
    ingest.init_app(app, collector)
    openapi.init_app(app, settings)  # GET /openapi.json: a blueprint of its own, never rate-limited
    plan_types = None if settings.tracking_plan is None else settings.tracking_plan.event_types
    ops.init_app(app, settings.event_types, settings.data_dir, plan_types)
    errors.init_app(app)
    stack.apply(app, stack.declare(settings, collector, keys, limits))

    logger.info("collector configured: %s", settings.describe())
    for risk in risks(settings):
        logger.warning("%s", risk)
    return app
