"""GET /metrics and what the app counts, through Flask's test client.

prometheus_client's registry is one per process, shared by every app and test:
each test compares values before and after what it sends.
"""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.mmap_dict import MmapedDict, mmap_key
from prometheus_client.parser import text_string_to_metric_families

from collector.ops import metrics
from collector.store import datafiles
from tests.app.helpers import post


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def batch(*event_types: str) -> dict:
    return {"messageBody": [{"eventType": event_type} for event_type in event_types]}


def requests_total(status: str, path: str = "/collect/event") -> float:
    return sample("collector_requests_total", path=path, status=status)


def rejected(code: str) -> float:
    return sample("collector_rejected_requests_total", code=code)


def rate_limited(replayed: str) -> float:
    return sample("collector_rate_limited_requests_total", replayed=replayed)


def test_accepted_events_are_counted_by_type_and_their_bytes_as_written(app, client):
    before = [sample("collector_events_accepted_total", event_type=t) for t in ("app_view", "app_buy")]
    bytes_before = sample("collector_bytes_written_total")
    assert post(client, batch("app_view")).status_code == 201
    assert post(client, batch("app_view", "app_buy", "app_view")).status_code == 201
    after = [sample("collector_events_accepted_total", event_type=t) for t in ("app_view", "app_buy")]
    assert [a - b for a, b in zip(after, before, strict=True)] == [3, 1]
    data_dir = app.extensions["collector"].settings.data_dir
    written = sum(path.stat().st_size for path in datafiles.data_files(data_dir))
    assert sample("collector_bytes_written_total") - bytes_before == written


def test_refused_events_are_not_counted_as_accepted(client):
    before = sample("collector_events_accepted_total", event_type="app_refused")
    response = post(client, batch("app_refused", ""))
    assert response.status_code == 400
    assert sample("collector_events_accepted_total", event_type="app_refused") == before


def test_every_answer_is_counted_by_status_and_every_error_by_its_code(make_app):
    client = make_app(max_body_bytes="100").test_client()
    statuses = ["201", "400", "413", "415", "404", "405"]
    codes = [
        "invalid_json",
        "empty_body",
        "body_too_large",
        "unsupported_media_type",
        "not_found",
        "method_not_allowed",
    ]
    before_statuses = [
        requests_total(s, path)
        for s, path in zip(statuses, ["/collect/event"] * 4 + ["other", "/collect/event"], strict=True)
    ]
    before_codes = [rejected(code) for code in codes]
    answers = [
        post(client, batch("app_status")),
        post(client, b"{nope"),
        post(client, b""),
        post(client, b"[" * 200),
        post(client, b"{}", content_type="text/csv"),
        client.get("/nowhere"),
        client.get("/collect/event"),
    ]
    assert [r.status_code for r in answers] == [201, 400, 400, 413, 415, 404, 405]
    after_statuses = [
        requests_total(s, path)
        for s, path in zip(statuses, ["/collect/event"] * 4 + ["other", "/collect/event"], strict=True)
    ]
    assert [a - b for a, b in zip(after_statuses, before_statuses, strict=True)] == [1, 2, 1, 1, 1, 1]
    assert [rejected(code) - old for code, old in zip(codes, before_codes, strict=True)] == [1, 1, 1, 1, 1, 1]


def test_health_checks_and_scrapes_are_counted_under_their_own_path(client):
    before = [requests_total("200", path) for path in ("/healthz", "/readyz", "/metrics")]
    for path in ("/healthz", "/readyz", "/metrics"):
        assert client.get(path).status_code == 200
    after = [requests_total("200", path) for path in ("/healthz", "/readyz", "/metrics")]
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1, 1]


def test_a_refusal_by_the_limiter_and_its_replays_are_counted_apart(make_app):
    client = make_app(rate_limit="1 per hour").test_client()
    before = rejected("rate_limited"), rate_limited("false"), rate_limited("true"), requests_total("429")
    address = {"REMOTE_ADDR": "198.51.100.20"}
    answers = [post(client, batch("app_limited"), environ_base=address).status_code for _ in range(4)]
    assert answers == [201, 429, 429, 429]
    after = rejected("rate_limited"), rate_limited("false"), rate_limited("true"), requests_total("429")
    # The first 429 is flask-limiter's; the worker replays it for the rest of the window.
    assert [a - b for a, b in zip(after, before, strict=True)] == [3, 1, 2, 3]


def test_without_a_replay_every_429_is_the_limiters(make_app):
    client = make_app(
        rate_limit="1 per hour", rate_limit_strategy="sliding-window-counter", rate_limit_storage="memory://"
    ).test_client()
    before = rate_limited("false"), rate_limited("true")
    address = {"REMOTE_ADDR": "198.51.100.21"}
    assert [post(client, batch("app_sliding"), environ_base=address).status_code for _ in range(3)] == [201, 429, 429]
    assert (rate_limited("false") - before[0], rate_limited("true") - before[1]) == (2, 0)


def timed(path: str) -> float:
    return sample("collector_request_duration_seconds_count", path=path)


def test_posts_to_collect_are_timed_whatever_their_answer(client):
    before = timed("/collect/event")
    post(client, batch("app_timed"))
    post(client, b"{nope")
    client.get("/healthz")
    assert timed("/collect/event") - before == 2
    assert sample("collector_request_duration_seconds_bucket", path="/collect/event", le="+Inf") == timed(
        "/collect/event"
    )


SEGMENT_LABELS = ("/v1/batch", "/v1/<call>", "other")


def test_segment_routes_are_counted_and_timed_under_two_bounded_paths(client):
    track = {"type": "track", "event": "Order Completed", "userId": "u1"}
    before = [requests_total("200", label) for label in SEGMENT_LABELS], [timed(label) for label in SEGMENT_LABELS]
    answers = [
        client.post("/v1/batch", json={"batch": [track]}),
        client.post("/v1/b", json={"batch": [track]}),
        client.post("/v1/track", json=track),
        client.post("/v1/p", json={"name": "Home", "anonymousId": "a1"}),
        client.post("/v1/identify", json={"userId": "u1", "traits": {"plan": "pro"}}),
    ]
    assert [r.status_code for r in answers] == [200] * 5
    assert client.get("/v1/batch").status_code == 405  # counted under its route, not timed: not a POST
    after = [requests_total("200", label) for label in SEGMENT_LABELS], [timed(label) for label in SEGMENT_LABELS]
    assert [a - b for a, b in zip(after[0], before[0], strict=True)] == [2, 3, 0]
    assert [a - b for a, b in zip(after[1], before[1], strict=True)] == [2, 3, 0]
    assert requests_total("405", "/v1/batch") >= 1


def test_an_allow_list_labels_each_of_its_types(make_app):
    allowed = [f"app_allowed_{n:03d}" for n in range(120)]
    client = make_app(event_types=",".join(allowed)).test_client()
    before = sample("collector_events_accepted_total", event_type="other")
    assert post(client, batch(*allowed)).status_code == 201
    assert all(sample("collector_events_accepted_total", event_type=t) == 1 for t in allowed)
    assert sample("collector_events_accepted_total", event_type="other") == before


def test_without_an_allow_list_types_past_the_first_hundred_are_other(client):
    types = [f"app_many_{n:03d}" for n in range(103)]
    before = sample("collector_events_accepted_total", event_type="other")
    assert post(client, batch(*types, "app_many_000")).status_code == 201
    assert sample("collector_events_accepted_total", event_type="app_many_000") == 2
    assert sample("collector_events_accepted_total", event_type="app_many_099") == 1
    assert sample("collector_events_accepted_total", event_type="app_many_100") == 0
    assert sample("collector_events_accepted_total", event_type="other") - before == 3


def test_metrics_answers_prometheus_text_with_every_family(client):
    post(client, batch("app_scraped"))
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=")
    families = {family.name: family for family in text_string_to_metric_families(response.get_data(as_text=True))}
    declared = {metric._name for metric in vars(metrics).values() if isinstance(metric, MetricWrapperBase)}
    assert declared <= set(families)
    # Known label values are there from the start, so a rate() sees their first increment.
    assert 'collector_files_finished_total{reason="recovered"}' in response.get_data(as_text=True)
    assert 'collector_rate_limited_requests_total{replayed="true"}' in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/metrics", "/healthz"])
def test_operators_endpoints_are_answered_for_a_client_over_its_limit(make_app, path):
    client = make_app(rate_limit="1 per hour").test_client()
    address = {"REMOTE_ADDR": "198.51.100.22"}
    assert [post(client, batch("app_over"), environ_base=address).status_code for _ in range(2)] == [201, 429]
    assert client.get(path, environ_base=address).status_code == 200


def test_a_scrape_sums_the_workers_files_and_skips_one_a_worker_is_just_creating(app, client, tmp_path, monkeypatch):
    for pid, count in ((101, 2.0), (102, 3.0)):
        counts = MmapedDict(str(tmp_path / f"counter_{pid}.db"))
        counts.write_value(
            mmap_key("collector_bytes_written", "collector_bytes_written_total", [], [], "help"), count, 0.0
        )
        counts.close()
    (tmp_path / "counter_103.db").touch()  # created, not yet sized: reading it would fail
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    response = client.get("/metrics")
    assert response.status_code == 200
    assert "collector_bytes_written_total 5.0" in response.get_data(as_text=True)
