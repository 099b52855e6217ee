"""CORS for POST /collect/event (and Segment's /v1/ routes), so that pages on the allowed origins can send events.

With COLLECTOR_CORS_ORIGINS set, a small WSGI middleware answers the browser's
preflight (OPTIONS with `Origin` and `Access-Control-Request-Method`) itself,
before Flask, flask-limiter or memcached are touched: a preflight is never
rate-limited and never uses up a client's budget. To every other answer of the
path for an allowed origin it adds `Access-Control-Allow-Origin` and exposes
the rate-limit headers, whoever made the answer: the view, the error handler,
flask-limiter, or the replay of a refusal (collector/ratelimit/refusals.py),
which answers before Flask. So the layer must wrap the rate limit's (see
collector/stack.py). With the setting empty, there is no layer and no answer
carries a CORS header.

CORS is a rule browsers apply to what a page may read, not an access control:
anyone can still POST with curl (that is what write keys are for), and a
browser sends a simple request (text/plain, as `navigator.sendBeacon` sends a
string) from any origin without asking; it only keeps the answer from the page.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterable
from typing import Any

from ..errors import CORS_PREFLIGHT_REFUSED
from ..ops.origins import RefusedOrigins
from ..request import record
from .segment import PATHS as SEGMENT_PATHS

COLLECT_PATH = "/collect/event"
# /collect/event and the Segment-compatible routes, which the browser's Segment SDK posts to.
CORS_PATHS = frozenset({COLLECT_PATH, *SEGMENT_PATHS})

ALLOW_METHODS = "POST"
# What the browser client and server-side features may send: the body's type and
# coding, a write key in either header, and an idempotency key; and the count
# of a resend that Segment's browser SDK adds (without it allowed, the browser
# would never send the SDK's retries).
ALLOW_HEADERS = "Content-Type, Content-Encoding, Authorization, X-Collector-Key, Idempotency-Key, X-Retry-Count"
# Not CORS-safelisted, so a page could not read them without this.
EXPOSE_HEADERS = "X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After"
# Chromium caps a preflight cache at 2 hours, Firefox at 24.
MAX_AGE_SECONDS = 7200

ANY_ORIGIN = "*"
_DEFAULT_PORTS = {"http": ":80", "https": ":443"}


def normalized_origin(origin: str) -> str:
    """An origin as browsers serialize it: lower case, without its scheme's default port."""
    origin = origin.strip().lower().rstrip("/")
    scheme = origin.partition("://")[0]
    port = _DEFAULT_PORTS.get(scheme)
    if port and origin.endswith(port):
        origin = origin[: -len(port)]
    return origin


class AllowedOrigins:
    """Whether a request's `Origin` may read the answers (COLLECTOR_CORS_ORIGINS)."""

    def __init__(self, origins: Iterable[str]) -> None:
        origins = frozenset(origins)
        self.any = ANY_ORIGIN in origins
        self.origins = frozenset(normalized_origin(origin) for origin in origins if origin != ANY_ORIGIN)

    def allows(self, origin: str | None) -> bool:
        if not origin:
            return False
        return self.any or normalized_origin(origin) in self.origins


def allow_origin_headers(origin: str) -> list[tuple[str, str]]:
    """The headers that let the page at `origin` read an answer.

    The origin is echoed, never `*`, and credentials are allowed: a Blob sent by
    `navigator.sendBeacon` (and a fetch with `credentials: "include"`) is sent
    in credentials mode, where browsers refuse an answer of `*` or one without
    `Access-Control-Allow-Credentials: true`. That is safe here, with
    COLLECTOR_CORS_ORIGINS=`*` too: the collector sets and reads no cookies and
    takes no ambient credential (a write key is sent on purpose, by the page,
    and is public in its source anyway), so credentials carry nothing that
    could be abused, and an answer holds nothing secret (a pingId, an error,
    rate-limit counts).
    """
    return [("Access-Control-Allow-Origin", origin), ("Access-Control-Allow-Credentials", "true")]


def preflight_headers(origin: str) -> list[tuple[str, str]]:
    return [
        *allow_origin_headers(origin),
        ("Access-Control-Allow-Methods", ALLOW_METHODS),
        ("Access-Control-Allow-Headers", ALLOW_HEADERS),
        ("Access-Control-Max-Age", str(MAX_AGE_SECONDS)),
    ]


def with_vary_origin(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """`headers` with `Origin` in their `Vary`: an answer differs by origin, also for those not allowed."""
    for index, (name, value) in enumerate(headers):
        if name.lower() == "vary":
            if "origin" not in [part.strip().lower() for part in value.split(",")]:
                headers[index] = (name, f"{value}, Origin")
            return headers
    headers.append(("Vary", "Origin"))
    return headers


@dataclasses.dataclass(frozen=True)
class RefusedPreflight:
    """What an operator needs to know of a refused preflight: who asked for what, and why it was refused."""

    origin: str
    method: str
    headers: str | None  # Access-Control-Request-Headers, as sent
    message: str


# The longest value of each kept: a preflight's headers are whatever the sender writes.
MAX_KEPT_CHARS = 1000

KeepRefused = Callable[[dict, RefusedPreflight], None]


def refusal(origin: str, method: str, headers: str | None, origin_allowed: bool) -> RefusedPreflight:
    """Why a preflight was refused, as its dead letter says it."""
    if origin_allowed:
        why = f"a CORS preflight asking for {method[:100]!r}: only {ALLOW_METHODS} is allowed"
    else:
        why = (f"a CORS preflight from {origin[:300]}, an origin not in COLLECTOR_CORS_ORIGINS: "
               "the browser sends nothing")
    cut = headers[:MAX_KEPT_CHARS] if headers is not None else None
    return RefusedPreflight(origin[:MAX_KEPT_CHARS], method[:MAX_KEPT_CHARS], cut, why)


class CrossOrigin:
    """WSGI middleware: answer preflights of `paths`, and add the CORS headers to its other answers.

    A refused preflight is counted by its origin (`refused_origins`) and, with
    `keep_refused` (dead letters on), kept with its detail: a page on an origin
    left out sends nothing at all, and this is all its operator can see of it.
    """

    def __init__(
        self,
        app: Callable,
        allowed: AllowedOrigins,
        paths: frozenset[str] = CORS_PATHS,
        keep_refused: KeepRefused | None = None,
    ) -> None:
        self.app = app
        self.allowed = allowed
        self.paths = paths
        self.keep_refused = keep_refused
        self.refused_origins = RefusedOrigins()

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") not in self.paths:
            return self.app(environ, start_response)
        origin = environ.get("HTTP_ORIGIN")
        allowed = self.allowed.allows(origin)
        if environ.get("REQUEST_METHOD") == "OPTIONS" and origin and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ:
            return self._preflight(environ, origin if allowed else None, start_response)
        # `allows` refuses a missing origin: `origin` is a str wherever `allowed` holds.
        extra = []
        if allowed and origin:
            extra = [*allow_origin_headers(origin), ("Access-Control-Expose-Headers", EXPOSE_HEADERS)]

        def cors_start_response(status: str, headers: list, exc_info: Any = None) -> Callable:
            return start_response(status, with_vary_origin(list(headers) + extra), exc_info)

        return self.app(environ, cors_start_response)

    def _preflight(self, environ: dict, origin: str | None, start_response: Callable) -> Iterable[bytes]:
        """204; with the allow headers only for an allowed origin asking for POST (the browser then refuses the rest).

        A refusal leaves its code for the access log and the metrics (as every
        refusal does), so an operator sees a page on an origin not allowed.
        """
        method = environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD", "").strip()
        headers = preflight_headers(origin) if origin and method == ALLOW_METHODS else []
        if not headers:
            self._refused(environ, method, origin is not None)
        start_response("204 No Content", with_vary_origin(headers))
        return []

    def _refused(self, environ: dict, method: str, origin_allowed: bool) -> None:
        record.of(environ).error_code = CORS_PREFLIGHT_REFUSED.code
        sent = environ["HTTP_ORIGIN"]
        self.refused_origins.count(normalized_origin(sent))
        if self.keep_refused is not None:
            asked = environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS")
            self.keep_refused(environ, refusal(sent, method, asked, origin_allowed))


def cross_origin(
    origins: frozenset[str], keep_refused: KeepRefused | None = None
) -> Callable[[Callable], CrossOrigin] | None:
    """The CORS layer for `origins` (COLLECTOR_CORS_ORIGINS), or None when it is empty.

    It must wrap the rate limit's layers, so that their answers (a replayed 429) get the headers too.
    `keep_refused`: keeps a refused preflight's detail (a dead letter), or None.
    """
    if not origins:
        return None
    return functools.partial(CrossOrigin, allowed=AllowedOrigins(origins), keep_refused=keep_refused)
