"""The data path of POST /collect/event: read and parse the body, validate it
against the schemas (with a fast path derived from them), enrich each event
with what the server knows, hand the lines to the store, answer 201."""

from __future__ import annotations

import flask

from . import segment_views  # noqa: F401 - segment_views: its routes join the blueprint
from .cors import cross_origin
from .intake import Intake
from .keys import WriteKeys
from .parsing import event_count
from .routes import ROUTES
from .views import EXTENSION, DataPath, assign_ping_id, bp

__all__ = [
    "ROUTES",
    "DataPath",
    "Intake",
    "WriteKeys",
    "assign_ping_id",
    "bp",
    "cross_origin",
    "event_count",
    "init_app",
]


def init_app(app: flask.Flask, data_path: DataPath) -> None:
    """Register the blueprint and keep what its views use (`data_path`: the Collector); the body's limit."""
    app.config["MAX_CONTENT_LENGTH"] = data_path.intake.max_body_bytes
    app.register_blueprint(bp)
    app.extensions[EXTENSION] = data_path
