"""The one record of a request: what the layers it goes through learn about it and hand on.

It lives in the WSGI environ under one key, not in `flask.g`, because some of
its readers and writers work below Flask or after it: the CORS layer refusing a
preflight and the rate limit's replay of a 429 (before Flask) write into it,
and the request counter and gunicorn's access logger read it once the answer is
sent (after Flask's request context is gone). `of(environ)` makes it on first
use, so no layer depends on which of them runs first.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import flask

ENVIRON_KEY = "collector.request"


@dataclasses.dataclass(slots=True)
class RequestRecord:
    """What travels with one request, set by the layer that learns it."""

    # The id a stored line and every log line about the request carry (ingest; the 429 replay).
    ping_id: str | None = None
    # The body as read (gzip undone), kept for a dead letter should the request be refused (ingest.parsing).
    raw_body: bytes | None = None
    # The parse of the body, (value, None) or (None, the error), made once for the limiter and the view.
    payload: tuple[Any, BaseException | None] | None = None
    # The id of the request's valid write key, once checked (ingest.keys).
    key_id: str | None = None
    # The id of a write key presented and refused (ingest.keys), for its dead letter: which key, never the key.
    tried_key_id: str | None = None
    # The code of an error answer: every one is counted and logged by it (errors, CORS, the 429 replay).
    error_code: str | None = None
    # The Idempotency-Key (scoped) and body fingerprint this request holds, until stored or released.
    idempotency_claim: tuple[str, str] | None = None
    # A 429 answered by the replay of a known refusal, below Flask: counted apart from flask-limiter's.
    replayed_refusal: bool = False
    # A refused request's cost was given back to its window already (ratelimit.limiter).
    rate_limit_given_back: bool = False


def of(environ: dict) -> RequestRecord:
    """The record of the request `environ` belongs to, made on first use."""
    found = environ.get(ENVIRON_KEY)
    if found is None:
        found = environ[ENVIRON_KEY] = RequestRecord()
    return found


def current() -> RequestRecord:
    """The record of the request Flask is handling."""
    return of(flask.request.environ)
