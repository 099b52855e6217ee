"""The Collector service object: what the request path needs, built once per app.

`create_app` installs it and hands it to what handles a request (the stack
block, collector/stack.py, and `ingest.init_app`), so the request path never
looks it up; gunicorn's hooks and the tests reach it through `of(app)`, never
through `app.extensions`.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import flask

if TYPE_CHECKING:
    from .deadletters import DeadLetters
    from .idempotency import Idempotency
    from .ingest import Intake
    from .settings import Settings
    from .store import EventWriter

_EXTENSION = "collector"


@dataclasses.dataclass(frozen=True)
class Collector:
    settings: Settings
    intake: Intake  # the request path's settings, as the steps that use them
    writer: EventWriter
    idempotency: Idempotency
    dead_letters: DeadLetters | None = None


def install(app: flask.Flask, collector: Collector) -> None:
    app.extensions[_EXTENSION] = collector


def of(app: flask.Flask | None) -> Collector | None:
    """The service of `app`, or None for no app (a worker yet to load it) or an app that is not the collector."""
    extensions = getattr(app, "extensions", None)
    return None if extensions is None else extensions.get(_EXTENSION)
