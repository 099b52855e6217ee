"""The X-RateLimit-* headers on every answer of a limited route, and Retry-After on a 429.

Written here rather than by flask-limiter (its `headers_enabled` is off): a
storage failure while reading them must leave them out, never turn the answer
into a 500, and an unchecked request (memcached down, `open`) must not get
headers that were made up. The same function words them for flask-limiter's
answers and for their replays (refusals.py), so the two cannot differ.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import flask
from flask_limiter import Limiter

from .outage import STORAGE_ERRORS, StorageOutage

# Called with (client key, reset time, limit header, body, the window's counter key) for each 429 of a breach.
Remember = Callable[[str, float, str, bytes, str], None]


def rate_limit_headers(limit: int | str, remaining: int, reset_at: float, refused: bool) -> list[tuple[str, str]]:
    """The headers for a window: its limit, what is left of it, and when it resets."""
    headers = [
        ("X-RateLimit-Limit", str(limit)),
        ("X-RateLimit-Remaining", str(remaining)),
        # The first whole second at which the window has reset (limits gives a float).
        ("X-RateLimit-Reset", str(math.ceil(reset_at))),
    ]
    if refused:
        headers.append(("Retry-After", str(max(1, math.ceil(reset_at - time.time())))))
    return headers


def header_writer(
    limiter: Limiter,
    outage: StorageOutage,
    remember_refusal: Remember | None,
    client_key: Callable[[], str],
) -> Callable[[flask.Response], flask.Response]:
    """The after_request function that adds the headers (and hands a 429 to `remember_refusal`)."""

    def add_rate_limit_headers(response: flask.Response) -> flask.Response:
        current = limiter.current_limit
        if current is None or outage.request_unchecked():
            return response  # not a limited route, or its limit could not be checked
        try:
            window = current.window
        except STORAGE_ERRORS as error:
            outage.record(error)
            return response
        refused = response.status_code == 429
        for name, value in rate_limit_headers(current.limit.amount, window.remaining, window.reset_time, refused):
            response.headers[name] = value
        if refused and remember_refusal is not None and current.breached:
            remember_refusal(
                client_key(), window.reset_time, str(current.limit.amount), response.get_data(), current.key
            )
        return response

    return add_rate_limit_headers
