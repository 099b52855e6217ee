"""The stack a request goes through, declared in one place: WSGI layers outermost first, hooks in the order they run.

The packages provide their layers and hooks as values (a hook may be a bound
method of an object holding what it needs); none of them wraps `app.wsgi_app`
or registers a hook itself. `declare` is the one block that says where each
one runs; `apply` installs it. tests/app/test_stack.py reads the built app back.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import deadletters, errors, ingest, ops

if TYPE_CHECKING:
    from .ratelimit import RateLimit
    from .service import Collector
    from .settings import Settings

Layer = Callable[[Any], Any]  # the WSGI app below -> a WSGI app around it
Hook = Callable[..., Any]


@dataclasses.dataclass(frozen=True)
class Installs:
    """A library that registers its own hooks (no public way to take them one by one), here in the order."""

    install: Callable[[flask.Flask], None]


@dataclasses.dataclass(frozen=True)
class Stack:
    layers: Sequence[Layer | None]  # outermost first; None: not on with these settings
    before_request: Sequence[Hook | Installs | None]  # in the order they run
    after_request: Sequence[Hook | None]  # in the order they run
    teardown_request: Sequence[Hook | None]  # in the order they run


def declare(settings: Settings, collector: Collector, keys: ingest.WriteKeys, limits: RateLimit) -> Stack:
    """The collector's stack, for `settings`."""
    return Stack(
        layers=[  # WSGI middleware, outermost first: each wraps all that follow
            ops.count_requests(ingest.ROUTES),  # sees every answer, those made below Flask too
            # None without trusted proxies; every layer below sees the client's address: the 429 replay keys on it,
            # and a refused preflight's dead letter keeps it
            proxy_fix(settings.trusted_proxies),
            # None without origins; its headers go on the replayed 429s too
            ingest.cross_origin(
                settings.cors_origins, deadletters.preflight_keeper(collector.dead_letters, collector.intake)
            ),
            limits.refuse_known_clients,  # None unless fixed-window with a cost per request: the 429 replay
        ],
        before_request=[  # in the order they run
            ingest.assign_ping_id,  # first: a refused request's log lines carry it too
            errors.refuse_leading_slashes,  # before anything that acts on the matched endpoint
            keys.require_write_key if keys else None,  # before the limit: a stranger is not counted (ingest/keys.py)
            limits.begin_request,  # forgets the previous request's storage failure, before the check
            # flask-limiter's check. Its init_app registers it (4.1 has no public way to take its hooks one
            # by one), and with it an after_request, which then runs after every one below, and a teardown,
            # which runs after those below: both only touch flask-limiter's own per-request state.
            Installs(limits.install_flask_limiter),
        ],
        after_request=[  # in the order they run (`apply` registers them in reverse, as Flask runs them)
            errors.untyped_options,
            deadletters.keeper(collector.dead_letters, collector.intake),  # None with COLLECTOR_DEAD_LETTER=off
            limits.add_headers,
        ],
        teardown_request=[  # in the order they run
            collector.idempotency.release_unfinished,  # a claim whose request stored nothing gives its key back
        ],
    )


def proxy_fix(trusted_proxies: int) -> Layer | None:
    """werkzeug's ProxyFix for that many trusted hops (COLLECTOR_TRUSTED_PROXIES), or None for none."""
    return functools.partial(ProxyFix, x_for=trusted_proxies) if trusted_proxies else None


def apply(app: flask.Flask, stack: Stack) -> None:
    """Install `stack` on `app`, each part in its declared order."""
    for hook in stack.before_request:
        if isinstance(hook, Installs):
            hook.install(app)
        elif hook is not None:
            app.before_request(hook)
    # Flask runs after_request and teardown_request functions last-registered first:
    # registered in reverse, they run in the order declared.
    for hook in reversed([hook for hook in stack.after_request if hook is not None]):
        app.after_request(hook)
    for hook in reversed([hook for hook in stack.teardown_request if hook is not None]):
        app.teardown_request(hook)
    # Wrapped innermost first, so that the first layer declared ends up outermost.
    for layer in reversed([layer for layer in stack.layers if layer is not None]):
        app.wsgi_app = layer(app.wsgi_app)  # type: ignore[method-assign]
