"""Refused CORS preflights counted by the Origin they came from, with a bounded number of labels.

An operator whose page's events never arrive looks here first: a page on an
origin left out of COLLECTOR_CORS_ORIGINS gets its preflights refused, and the
browser then sends nothing at all. The label tells which origin it was.

But `Origin` is whatever the sender writes (any script can send a preflight),
so a label per value would let anyone add series to every scrape, forever. So
each worker process labels the first MAX_REFUSED_ORIGINS origins it refuses
and counts every later one as `other`; a value that is not an origin
(`scheme://host[:port]`, or `null`) or is over MAX_ORIGIN_CHARS is `other`
too and takes no place. Twenty: a team's own mistakes are a handful of
origins (production, staging, a developer's localhost ports), and twenty
series per worker are nothing to Prometheus. The whole service shows at most
that many per worker process that ever ran, as every bounded label here does.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from .metrics import CORS_PREFLIGHTS_REFUSED

MAX_REFUSED_ORIGINS = 20
# The longest origin labelled: a host name is at most 253 characters, a scheme and a port a few more.
MAX_ORIGIN_CHARS = 280
OTHER = "other"
# An origin as browsers send it, lower-cased (ingest/cors.py normalizes it first): a scheme, `://`, a host with
# an optional port, no path; or `null` (a sandboxed frame, a file: page).
_ORIGIN = re.compile(r"null|[a-z][a-z0-9+.-]*://[a-z0-9.\-_~%\[\]:]+")


class RefusedOrigins:
    """Counts refused preflights by origin, with at most `limit` distinct labels in this process."""

    def __init__(self, limit: int = MAX_REFUSED_ORIGINS) -> None:
        self._limit = limit
        self._children: dict[str, Any] = {}
        self._lock = threading.Lock()

    def count(self, origin: str) -> None:
        """Count one refused preflight from `origin` (normalized: see ingest/cors.py)."""
        child = self._children.get(origin)
        (child if child is not None else self._bind(origin)).inc()

    def _bind(self, origin: str) -> Any:
        if len(origin) > MAX_ORIGIN_CHARS or not _ORIGIN.fullmatch(origin):
            return CORS_PREFLIGHTS_REFUSED.labels(origin=OTHER)
        with self._lock:
            if origin in self._children:
                return self._children[origin]
            if len(self._children) >= self._limit:
                return CORS_PREFLIGHTS_REFUSED.labels(origin=OTHER)
            child = self._children[origin] = CORS_PREFLIGHTS_REFUSED.labels(origin=origin)
            return child
