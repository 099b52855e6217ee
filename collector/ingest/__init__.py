"""The data path of POST /collect/event: read and parse the body, validate it
against the schemas (with a fast path derived from them), enrich each event
with what the server knows, hand the lines to the store, answer 201."""

from __future__ import annotations

from typing import TYPE_CHECKING

import flask

from . import cors, segment_views  # noqa: F401 - segment_views: its routes join the blueprint
from .intake import Intake
from .keys import WriteKeys, require_write_keys
from .parsing import event_count
from .routes import ROUTES
from .views import assign_ping_id, bp

if TYPE_CHECKING:
    from ..settings import Settings

__all__ = [
    "ROUTES",
    "Intake",
    "WriteKeys",
    "assign_ping_id",
    "bp",
    "event_count",
    "init_app",
    "require_write_keys",
]


def init_app(app: flask.Flask, settings: Settings) -> None:
    """Call after the rate limit's layers are wrapped: the CORS layer must wrap them (see cors.py)."""
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.register_blueprint(bp)
    cors.init_app(app, settings.cors_origins)
