"""collector: a self-hosted event collection service.

`create_app` wires the packages together and does nothing else:
settings -> logging -> service (validator, writer, idempotency, dead letters) -> ratelimit -> proxy fix -> ingest -> ops -> errors.
"""

from __future__ import annotations

import atexit
import logging
from collections.abc import Mapping
from typing import Any

import flask
from werkzeug.middleware.proxy_fix import ProxyFix

from .settings import load_settings, risks

logger = logging.getLogger(__name__)


def create_app(overrides: Mapping[str, Any] | None = None) -> flask.Flask:
    """Build the WSGI app from the environment, with `overrides` (field name -> value) on top.

    :raises SettingsError: naming the first variable with a bad value.
    """
    # Imported here, not above: importing any module of the package runs this
    # file, and collector/metricsdir.py must be importable before prometheus_client
    # is (gunicorn's configuration sets PROMETHEUS_MULTIPROC_DIR first).
    from . import deadletters, errors, idempotency, ingest, openapi, ops, ratelimit, service, store

    settings = load_settings(overrides=overrides)
    ops.logs.configure(settings.log_level, settings.log_format)

    # No static files to serve: no /static/ route.
    app = flask.Flask(__name__, static_folder=None)
    errors.route_paths_as_written(app)
    writer = store.build_writer(settings)
    atexit.register(writer.close)
    retries = idempotency.build(settings)
    service.install(
        app,
        service.Collector(
            settings=settings,
            intake=ingest.Intake.from_settings(settings),
            writer=writer,
            idempotency=retries,
            dead_letters=deadletters.build(settings),
        ),
    )
    idempotency.init_app(app, retries)

    app.before_request(ingest.assign_ping_id)  # first: a refused request's log lines carry it too
    app.before_request(errors.refuse_leading_slashes)  # before anything that acts on the matched endpoint
    # Before the limit: a request without a valid key gets its 401 without being counted (see ingest/keys.py).
    keys = ingest.require_write_keys(app, settings.write_keys)
    ratelimit.init_app(
        app, settings, limited=ingest.bp, count_events=ingest.event_count, key_id=keys.id_of, paths=ingest.ROUTES
    )
    if settings.trusted_proxies:
        # Around the limiter's layers, so each of them (the refusal replay too) sees the client's address.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies)  # type: ignore[method-assign]
    ingest.init_app(app, settings)
    app.after_request(deadletters.keep_refused)
    openapi.init_app(app, settings)  # GET /openapi.json: a blueprint of its own, never rate-limited
    ops.init_app(app, settings, ingest.ROUTES)  # its metrics layer wraps every other one
    errors.init_app(app)

    logger.info("collector configured: %s", settings.describe())
    for risk in risks(settings):
        logger.warning("%s", risk)
    return app
