"""A client refused in its window is refused again without reaching Flask or the limiter."""

from __future__ import annotations

import sqlite3

import orjson

from collector.ratelimit.sqlite_storage import CollectorSQLiteStorage
from tests.app.ratelimit.test_limiter import post
from tests.servers import wait_until


def limiter_counters(app):
    """Every window's count, as the app's storage (sqlite:// or memory://) holds it."""
    [limiter] = app.extensions["limiter"]
    if isinstance(limiter.storage, CollectorSQLiteStorage):
        with sqlite3.connect(limiter.storage.path) as db:
            return dict(db.execute("SELECT key, count FROM windows"))
    return dict(limiter.storage.storage)


def test_a_remembered_refusal_is_the_same_429_and_costs_no_counting(make_app):
    app = make_app(rate_limit="2 per hour")
    client = app.test_client()
    assert [post(client).status_code for _ in range(2)] == [201, 201]
    first = post(client)
    assert first.status_code == 429
    counters = limiter_counters(app)

    again = post(client, b"not even JSON", content_type="text/plain")
    assert again.status_code == 429
    assert again.get_data() == first.get_data()
    body = orjson.loads(again.get_data())
    assert (body["code"], body["message"]) == ("rate_limited", "rate limit exceeded: 2 per 1 hour")
    for header in ("Content-Type", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"):
        assert again.headers[header] == first.headers[header], header
    assert abs(int(again.headers["Retry-After"]) - int(first.headers["Retry-After"])) <= 1
    assert limiter_counters(app) == counters, "the limiter's storage was not asked"


def test_the_replay_refuses_a_client_on_every_route_of_the_shared_limit(make_app):
    # /collect/event and the Segment-compatible routes draw on one budget: a client refused
    # on one is refused on all, as cheaply.
    app = make_app(rate_limit="1 per hour")
    client = app.test_client()
    address = {"REMOTE_ADDR": "203.0.113.7"}
    track = {"type": "track", "event": "Order Completed", "userId": "u1"}
    assert client.post("/v1/batch", json={"batch": [track]}, environ_base=address).status_code == 200
    first = client.post("/v1/track", json=track, environ_base=address)
    assert first.status_code == 429
    counters = limiter_counters(app)
    for path in ("/v1/batch", "/v1/b", "/v1/track", "/v1/t", "/v1/alias", "/collect/event"):
        again = client.post(path, data=b"not even JSON", content_type="text/plain", environ_base=address)
        assert (again.status_code, again.get_data()) == (429, first.get_data()), path
    assert limiter_counters(app) == counters, "the limiter's storage was not asked"


def test_other_clients_and_other_routes_are_not_affected(make_app):
    client = make_app(rate_limit="1 per hour").test_client()
    post(client)
    assert post(client).status_code == 429
    assert post(client, remote_addr="203.0.113.8").status_code == 201
    assert client.get("/healthz", environ_base={"REMOTE_ADDR": "203.0.113.7"}).status_code == 200


def test_a_remembered_client_is_admitted_again_when_its_window_resets(make_app):
    client = make_app(rate_limit="1 per 2 seconds").test_client()
    wait_until(lambda: post(client).status_code == 201, 5, "a fresh window")
    assert post(client).status_code == 429
    assert post(client).status_code == 429  # remembered
    wait_until(lambda: post(client).status_code == 201, 5, "the window to reset", interval=0.1)


def test_refusals_are_not_replayed_when_a_limit_counts_events(make_app):
    # A refused batch of 3 says nothing about a batch of 1: the limiter decides each.
    client = make_app(rate_limit="4 per hour", rate_limit_cost="event").test_client()
    assert post(client, events=3).status_code == 201
    assert post(client, events=3).status_code == 429
    assert post(client, events=1).status_code == 201
