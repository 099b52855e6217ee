"""The stack a request goes through, read back from the built app: the order create_app declares (collector/stack.py).
"""

import functools

import pytest

from collector import ratelimit

ALL_ON = {
    "cors_origins": "https://shop.example",
    "trusted_proxies": "1",
    "rate_limit_strategy": "fixed-window",
    "rate_limit_cost": "request",  # with fixed-window: the replay of known 429s below Flask
    "api_keys": "k" * 20,
    "dead_letter": "on",
}
ALL_OFF = {"cors_origins": "", "trusted_proxies": "0", "rate_limit_cost": "event", "api_keys": "", "dead_letter": "off"}


def name(function, limiter) -> str:
    """A hook's name; `flask-limiter` for the hooks flask-limiter registers itself (see stack.py)."""
    owner = function.args[0] if isinstance(function, functools.partial) else getattr(function, "__self__", None)
    if owner is limiter:
        return "flask-limiter"
    return getattr(function, "__name__", repr(function))


def layers(app) -> list[str]:
    """The WSGI middleware around Flask, outermost first (each holds the next as `.app`)."""
    found = []
    layer = app.wsgi_app
    while hasattr(layer, "app"):
        found.append(type(layer).__name__)
        layer = layer.app
    assert layer == app.__class__.wsgi_app.__get__(app), "Flask itself is innermost"
    return found


def hooks(app) -> dict[str, list[str]]:
    """Each kind of app-wide hook, in the order Flask RUNS them (after and teardown: last registered first)."""
    limiter = app.extensions[ratelimit.EXTENSION]
    return {
        "before": [name(f, limiter) for f in app.before_request_funcs.get(None, [])],
        "after": [name(f, limiter) for f in reversed(app.after_request_funcs.get(None, []))],
        "teardown": [name(f, limiter) for f in reversed(app.teardown_request_funcs.get(None, []))],
    }


def test_with_every_layer_on_the_stack_is_the_declared_order(make_app):
    app = make_app(**ALL_ON)
    assert layers(app) == ["CountRequests", "ProxyFix", "CrossOrigin", "RefuseKnownClients"]
    assert hooks(app) == {
        "before": ["assign_ping_id", "refuse_leading_slashes", "require_write_key", "begin_request", "flask-limiter"],
        "after": ["untyped_options", "keep_rejected", "add_rate_limit_headers", "flask-limiter"],
        "teardown": ["release_unfinished", "flask-limiter"],
    }


def test_with_the_optional_layers_off_they_are_left_out(make_app):
    app = make_app(**ALL_OFF)
    assert layers(app) == ["CountRequests"]
    assert hooks(app) == {
        "before": ["assign_ping_id", "refuse_leading_slashes", "begin_request", "flask-limiter"],
        "after": ["untyped_options", "add_rate_limit_headers", "flask-limiter"],
        "teardown": ["release_unfinished", "flask-limiter"],
    }


@pytest.mark.parametrize("strategy", ["moving-window", "sliding-window-counter"])
def test_the_429_replay_is_only_where_a_refusal_lasts_its_window(make_app, strategy):
    app = make_app(rate_limit_storage="memory://", rate_limit_strategy=strategy, rate_limit_cost="request")
    assert "RefuseKnownClients" not in layers(app)


def test_no_blueprint_has_hooks_of_its_own(make_app):
    app = make_app(**ALL_ON)
    for registry in (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs):
        assert set(registry) <= {None}
