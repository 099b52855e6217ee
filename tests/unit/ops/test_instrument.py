"""The counting of answers and accepted events, without Flask: a bare WSGI app inside the middleware.

prometheus_client's registry is one per process, shared by every test: each
test reads a value before and after, and uses labels of its own where it can.
"""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from collector.ops.instrument import CountRequests, EventTypeCounter
from collector.request.record import ENVIRON_KEY, RequestRecord


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


class Counts:
    """Values of some samples now, to compare with later: `counts.delta()`."""

    def __init__(self, *samples: tuple[str, dict[str, str]]) -> None:
        self.samples = samples
        self.before = [sample(name, **labels) for name, labels in samples]

    def delta(self) -> list[float]:
        return [sample(name, **labels) - old for (name, labels), old in zip(self.samples, self.before, strict=True)]


def answering(status: str, **environ_marks):
    """A WSGI app that answers `status`, leaving `environ_marks` in the environ as the app's layers do."""

    def app(environ, start_response):
        environ.update(environ_marks)
        start_response(status, [("Content-Type", "application/json")])
        return [b"{}"]

    return app


def call(app, path="/collect/event", method="POST"):
    seen = []
    body = app(
        {"PATH_INFO": path, "REQUEST_METHOD": method}, lambda status, headers, exc_info=None: seen.append(status)
    )
    return seen, body


# As collector.ingest.ROUTES has them: each path clients post events to -> its route.
ROUTES = {"/collect/event": "/collect/event", "/v1/batch": "/v1/batch", "/v1/b": "/v1/batch", "/v1/t": "/v1/<call>"}


def counting(app):
    return CountRequests(app, ROUTES)


def requests_total(path: str, status: str):
    return ("collector_requests_total", {"path": path, "status": status})


DURATION_COUNT = ("collector_request_duration_seconds_count", {"path": "/collect/event"})


def test_each_answer_is_counted_by_path_and_status_and_passed_on_unchanged():
    counts = Counts(requests_total("/collect/event", "201"), requests_total("/healthz", "200"), DURATION_COUNT)
    seen, body = call(counting(answering("201 CREATED")))
    assert (seen, body) == (["201 CREATED"], [b"{}"])
    call(counting(answering("200 OK")), path="/healthz", method="GET")
    assert counts.delta() == [1, 1, 1]


def test_any_other_path_is_counted_as_other():
    counts = Counts(requests_total("other", "404"))
    for path in ("/nope", "/collect/event/", "/metrics/x"):
        call(counting(answering("404 NOT FOUND")), path=path, method="GET")
    assert counts.delta() == [3]


def test_the_paths_of_a_route_are_counted_and_timed_under_the_route():
    counts = Counts(
        requests_total("/v1/batch", "200"),
        requests_total("/v1/<call>", "200"),
        ("collector_request_duration_seconds_count", {"path": "/v1/batch"}),
        ("collector_request_duration_seconds_count", {"path": "/v1/<call>"}),
    )
    for path in ("/v1/batch", "/v1/b", "/v1/t"):
        call(counting(answering("200 OK")), path=path)
    assert counts.delta() == [2, 1, 2, 1]


def test_only_posts_to_collect_are_timed():
    counts = Counts(DURATION_COUNT)
    call(counting(answering("405 METHOD NOT ALLOWED")), method="GET")
    call(counting(answering("200 OK")), path="/metrics", method="GET")
    call(counting(answering("400 BAD REQUEST")))
    assert counts.delta() == [1]


def test_an_error_is_counted_by_the_code_its_response_left():
    counts = Counts(
        ("collector_rejected_requests_total", {"code": "invalid_json"}),
        ("collector_rate_limited_requests_total", {"replayed": "false"}),
    )
    call(counting(answering("400 BAD REQUEST", **{ENVIRON_KEY: RequestRecord(error_code="invalid_json")})))
    call(counting(answering("201 CREATED")))
    assert counts.delta() == [1, 0]


def test_rate_limited_answers_are_told_apart_from_their_replays():
    counts = Counts(
        ("collector_rejected_requests_total", {"code": "rate_limited"}),
        ("collector_rate_limited_requests_total", {"replayed": "false"}),
        ("collector_rate_limited_requests_total", {"replayed": "true"}),
    )
    call(counting(answering("429 TOO MANY REQUESTS", **{ENVIRON_KEY: RequestRecord(error_code="rate_limited")})))
    for _ in range(2):
        replayed = RequestRecord(error_code="rate_limited", replayed_refusal=True)
        call(counting(answering("429 TOO MANY REQUESTS", **{ENVIRON_KEY: replayed})))
    assert counts.delta() == [3, 1, 2]


def test_an_exception_out_of_the_app_is_counted_as_a_500_and_raised():
    def broken(environ, start_response):
        raise RuntimeError("a bug below Flask")

    counts = Counts(requests_total("/collect/event", "500"))
    with pytest.raises(RuntimeError):
        call(counting(broken))
    assert counts.delta() == [1]


def accepted(event_type: str) -> float:
    return sample("collector_events_accepted_total", event_type=event_type)


def test_events_are_counted_by_type_once_per_type_in_a_batch():
    counter = EventTypeCounter()
    before = accepted("unit_a"), accepted("unit_b")
    counter.count([{"eventType": "unit_a"}])
    counter.count([{"eventType": "unit_a"}, {"eventType": "unit_b"}, {"eventType": "unit_a"}])
    assert (accepted("unit_a") - before[0], accepted("unit_b") - before[1]) == (3, 1)


def test_types_past_the_bound_are_counted_as_other():
    counter = EventTypeCounter(limit=2)
    before = accepted("other")
    counter.count([{"eventType": f"bound_{n}"} for n in (1, 2, 3, 4, 1, 3)])
    assert [accepted(f"bound_{n}") for n in (1, 2, 3, 4)] == [2, 1, 0, 0]
    assert accepted("other") - before == 3
    # The labelled types stay labelled; the bound is on distinct types, not on events.
    counter.count([{"eventType": "bound_2"}, {"eventType": "bound_5"}])
    assert accepted("bound_2") == 2
    assert accepted("other") - before == 4


def test_with_an_allow_list_each_allowed_type_is_labelled_past_the_bound():
    allowed = frozenset(f"allowed_{n}" for n in range(5))
    counter = EventTypeCounter(allowed, limit=2)
    before = accepted("other")
    counter.count([{"eventType": event_type} for event_type in sorted(allowed)])
    assert [accepted(f"allowed_{n}") for n in range(5)] == [1] * 5
    assert accepted("other") == before
