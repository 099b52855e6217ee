"""Remembered refusals and the WSGI middleware that replays them, around a plain WSGI app."""

from __future__ import annotations

import math
import time

import pytest

from collector.ratelimit import refusals as refusals_module
from collector.ratelimit.identity import client_of
from collector.ratelimit.refusals import Refusal, Refusals, RefuseKnownClients, storage_check

CLIENT = "203.0.113.7"
PATHS = ("/collect/event", "/v1/batch", "/v1/t")  # the limited routes' paths, as create_app passes them
BODY = b'{"error": "Too Many Requests", "message": "rate limit exceeded: 2 per 1 hour", "statusCode": 429}'


class App:
    """The wrapped WSGI app: answers 201 and notes each environ it was called with."""

    def __init__(self):
        self.calls = []

    def __call__(self, environ, start_response):
        self.calls.append(environ)
        start_response("201 CREATED", [("Content-Type", "application/json")])
        return [b"{}"]


class Answer:
    """What a WSGI call answered: start_response's status and headers, and the body."""

    def __init__(self, app, environ):
        self.body = b"".join(app(environ, self.start_response))

    def start_response(self, status, headers):
        self.status = status
        self.headers = dict(headers)


def environ(method="POST", path="/collect/event", address=CLIENT):
    return {"REQUEST_METHOD": method, "PATH_INFO": path, "REMOTE_ADDR": address}


@pytest.fixture
def app():
    return App()


@pytest.fixture
def refusals():
    return Refusals()


@pytest.fixture
def middleware(app, refusals):
    return RefuseKnownClients(app, refusals, client_of(64), PATHS)


def test_a_remembered_client_gets_its_429_again_without_reaching_the_app(app, refusals, middleware):
    reset_at = time.time() + 30.25
    refusals.remember(CLIENT, reset_at, "2", BODY)
    before = time.time()
    answer = Answer(middleware, environ())
    after = time.time()
    assert answer.status == "429 TOO MANY REQUESTS"
    assert answer.body == BODY
    assert {name: answer.headers[name] for name in answer.headers if name != "Retry-After"} == {
        "Content-Type": "application/json",
        "Content-Length": str(len(BODY)),
        "X-RateLimit-Limit": "2",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": str(math.ceil(reset_at)),
    }
    assert math.ceil(reset_at - after) <= int(answer.headers["Retry-After"]) <= math.ceil(reset_at - before)
    assert app.calls == []


@pytest.mark.parametrize("path", PATHS)
def test_a_remembered_client_is_refused_on_every_path_it_shares_the_limit_on(app, refusals, middleware, path):
    refusals.remember(CLIENT, time.time() + 60, "2", BODY)
    answer = Answer(middleware, environ(path=path))
    assert (answer.status, answer.body) == ("429 TOO MANY REQUESTS", BODY)
    assert app.calls == []


def test_a_remembered_ipv6_client_is_known_by_its_network(app, refusals, middleware):
    refusals.remember("2001:db8:1:2::/64", time.time() + 60, "2", BODY)
    assert Answer(middleware, environ(address="2001:db8:1:2::99")).status == "429 TOO MANY REQUESTS"
    assert Answer(middleware, environ(address="2001:db8:1:3::99")).status == "201 CREATED"


@pytest.mark.parametrize(
    "request_environ",
    [
        environ(address="203.0.113.8"),
        environ(path="/healthz"),
        environ(path="/collect/event/"),
        environ(path="/v1/nowhere"),
        environ(method="GET"),
        environ(method="OPTIONS"),
    ],
    ids=["other-client", "other-path", "trailing-slash", "unknown-v1-path", "get", "options"],
)
def test_other_clients_paths_and_methods_reach_the_app(app, refusals, middleware, request_environ):
    refusals.remember(CLIENT, time.time() + 60, "2", BODY)
    answer = Answer(middleware, request_environ)
    assert (answer.status, answer.body) == ("201 CREATED", b"{}")
    assert app.calls == [request_environ]


def test_a_client_whose_window_ended_reaches_the_app(app, refusals, middleware):
    refusals.remember(CLIENT, time.time() - 0.5, "2", BODY)
    assert Answer(middleware, environ()).status == "201 CREATED"
    assert len(app.calls) == 1


def test_a_refusal_is_forgotten_once_its_window_ends(refusals):
    refusals.remember(CLIENT, 1_000.0, "2", BODY)
    assert refusals.refusal_for(CLIENT, now=999.5) == Refusal(1_000.0, "2", BODY)
    assert refusals.refusal_for(CLIENT, now=1_000.0) is None
    # Forgotten, not only hidden: an earlier clock does not bring it back.
    assert refusals.refusal_for(CLIENT, now=999.5) is None


def test_a_later_refusal_replaces_the_earlier_one(refusals):
    refusals.remember(CLIENT, 1_000.0, "2", BODY)
    refusals.remember(CLIENT, 2_000.0, "5", b"{}")
    assert refusals.refusal_for(CLIENT, now=1_500.0) == Refusal(2_000.0, "5", b"{}")


def remembered(refusals: Refusals) -> set[str]:
    # Refusals has no public count of what it holds; the bound is about memory.
    return set(refusals._until)


def test_past_the_bound_the_clients_whose_window_ended_are_dropped(refusals, monkeypatch):
    monkeypatch.setattr(refusals_module, "MAX_REMEMBERED_CLIENTS", 4)
    now = time.time()
    for n, reset_at in enumerate([now - 10, now + 60, now - 1, now + 60]):
        refusals.remember(f"client{n}", reset_at, "2", BODY)
    assert remembered(refusals) == {"client0", "client1", "client2", "client3"}
    refusals.remember("client4", now + 60, "2", BODY)
    assert remembered(refusals) == {"client1", "client3", "client4"}
    assert refusals.refusal_for("client1", now) == Refusal(now + 60, "2", BODY)


def test_memory_stays_bounded_when_every_remembered_client_is_still_refused(refusals, monkeypatch):
    monkeypatch.setattr(refusals_module, "MAX_REMEMBERED_CLIENTS", 4)
    for n in range(10):
        refusals.remember(f"client{n}", time.time() + 60, "2", BODY)
    assert len(remembered(refusals)) <= 4


class Counts:
    """A stand-in for limits' storage: its public `get`, and a failure on demand."""

    def __init__(self, **counts):
        self.counts = counts
        self.failing = False

    def get(self, key):
        if self.failing:
            raise ConnectionResetError(104, "Connection reset by peer")
        return self.counts.get(key, 0)


def test_a_refusal_is_replayed_only_while_the_storage_still_holds_its_window(app, refusals):
    storage = Counts(window=2)
    middleware = RefuseKnownClients(
        app, refusals, client_of(64), PATHS, still_refused=storage_check(storage, (OSError,))
    )
    refusals.remember(CLIENT, time.time() + 60, "2", BODY, counter_key="window")
    assert Answer(middleware, environ()).status == "429 TOO MANY REQUESTS"
    storage.counts.clear()  # memcached flushed or restarted: the window starts afresh
    assert Answer(middleware, environ()).status == "201 CREATED"
    assert refusal_count(refusals) == 0, "forgotten, not asked again"


def test_a_refusal_whose_window_cannot_be_read_goes_to_the_limiter(app, refusals):
    storage = Counts(window=5)
    storage.failing = True
    middleware = RefuseKnownClients(
        app, refusals, client_of(64), PATHS, still_refused=storage_check(storage, (OSError,))
    )
    refusals.remember(CLIENT, time.time() + 60, "2", BODY, counter_key="window")
    assert Answer(middleware, environ()).status == "201 CREATED"
    assert len(app.calls) == 1


def refusal_count(refusals: Refusals) -> int:
    return len(remembered(refusals))
