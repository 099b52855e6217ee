"""What a request costs, and the Limiter that build_limiter configures."""

from __future__ import annotations

import socket

import flask
import pytest
from flask_limiter import Limiter
from limits.storage import MemoryStorage

from collector.ratelimit.identity import client_of
from collector.ratelimit.limiter import build_limiter, check_storage, event_cost
from collector.ratelimit.outage import StorageOutage
from collector.ratelimit.storage import CollectorMemcachedStorage


def cost_of(count: int | None, max_events: int = 500) -> int:
    """The cost event_cost gives a request whose body holds `count` events (None: unreadable)."""
    cost = event_cost(lambda request: count, max_events)
    with flask.Flask(__name__).test_request_context("/collect/event", method="POST"):
        return cost()


@pytest.mark.parametrize("count, cost", [(1, 1), (7, 7), (500, 500)])
def test_a_batch_costs_one_per_event(count, cost):
    assert cost_of(count) == cost


def test_an_unreadable_body_costs_one():
    assert cost_of(None) == 1


def test_an_empty_batch_costs_one():
    assert cost_of(0) == 1


def test_a_batch_over_max_events_costs_max_events():
    assert cost_of(501, max_events=500) == 500
    assert cost_of(50_000, max_events=500) == 500


def test_the_cost_is_asked_of_the_current_request():
    seen = []

    def count_events(request):
        seen.append((request.method, request.path))
        return 3

    cost = event_cost(count_events, 500)
    with flask.Flask(__name__).test_request_context("/collect/event", method="POST"):
        assert cost() == 3
    assert seen == [("POST", "/collect/event")]


def limiter_for(storage: str, outage: StorageOutage) -> Limiter:
    limiter = build_limiter(
        storage=storage, strategy="fixed-window", timeout=0.2, client=client_of(64), cost=1, outage=outage
    )
    limiter.init_app(flask.Flask(__name__))
    return limiter


@pytest.fixture
def listener():
    """A listening socket nobody should connect to."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.setblocking(False)
        yield server


def test_a_memcached_uri_gets_the_collectors_storage_without_connecting(listener):
    uri = f"memcached://127.0.0.1:{listener.getsockname()[1]}"
    outage = StorageOutage(uri, "closed")
    limiter = limiter_for(uri, outage)
    assert isinstance(limiter.storage, CollectorMemcachedStorage)
    assert limiter.storage.outage is outage
    check_storage(limiter, uri)
    with pytest.raises(BlockingIOError):
        listener.accept()  # nothing connected


def test_a_memory_uri_gets_limits_own_storage():
    limiter = limiter_for("memory://", StorageOutage("memory://", "open"))
    assert type(limiter.storage) is MemoryStorage
    check_storage(limiter, "memory://")
