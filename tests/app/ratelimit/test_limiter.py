"""Rate limits through the Flask test client, with memory:// storage."""

from __future__ import annotations

import math
import time

import orjson
import pytest

from tests.app import helpers
from tests.app.helpers import stored

EVENT = {"eventType": "click"}


def post(client, body=None, *, events=1, remote_addr="203.0.113.7", headers=None, content_type="application/json"):
    data = body if body is not None else {"messageBody": [EVENT] * events}
    return helpers.post(client, data, content_type=content_type, headers=headers, remote_addr=remote_addr)


def test_forwarded_for_is_ignored_without_a_trusted_proxy(make_app):
    client = make_app(rate_limit="2 per hour").test_client()
    assert [post(client).status_code for _ in range(2)] == [201, 201]
    spoofed = post(client, headers={"X-Forwarded-For": "198.51.100.1"})
    assert spoofed.status_code == 429


def test_forwarded_for_names_the_client_behind_one_trusted_proxy(make_app):
    client = make_app(rate_limit="2 per hour", trusted_proxies="1").test_client()
    behind = {"X-Forwarded-For": "198.51.100.1"}
    assert [post(client, headers=behind).status_code for _ in range(3)] == [201, 201, 429]
    # A client that prepends addresses still ends up with the one nginx appended.
    forged = {"X-Forwarded-For": "192.0.2.99, 198.51.100.1"}
    assert post(client, headers=forged).status_code == 429
    other = {"X-Forwarded-For": "198.51.100.2"}
    assert post(client, headers=other).status_code == 201


def test_ipv6_clients_share_a_limit_per_slash_64_by_default(make_app):
    client = make_app(rate_limit="2 per hour").test_client()
    assert post(client, remote_addr="2001:db8:0:1::1").status_code == 201
    assert post(client, remote_addr="2001:db8:0:1:ffff::2").status_code == 201
    assert post(client, remote_addr="2001:db8:0:1:abcd::3").status_code == 429
    assert post(client, remote_addr="2001:db8:0:2::1").status_code == 201


def test_ipv6_prefix_setting_narrows_the_shared_network(make_app):
    client = make_app(rate_limit="1 per hour", rate_limit_ipv6_prefix="128").test_client()
    assert post(client, remote_addr="2001:db8:0:1::1").status_code == 201
    assert post(client, remote_addr="2001:db8:0:1::2").status_code == 201
    assert post(client, remote_addr="2001:db8:0:1::1").status_code == 429


def test_unix_socket_without_trusted_proxy_warns_that_clients_share_one_limit(make_app, capsys):
    make_app(bind="unix:/run/collector.sock")
    assert "share ONE rate limit" in capsys.readouterr().err
    make_app(bind="unix:/run/collector.sock", trusted_proxies="1")
    assert "share ONE rate limit" not in capsys.readouterr().err


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
def test_health_and_metrics_never_limited_and_never_use_budget(make_app, path):
    client = make_app(rate_limit="2 per hour").test_client()
    for _ in range(5):
        response = client.get(path, environ_base={"REMOTE_ADDR": "203.0.113.7"})
        assert response.status_code == 200
        assert "X-RateLimit-Limit" not in response.headers
    assert [post(client).status_code for _ in range(3)] == [201, 201, 429]
    # Over its limit, the same client still gets through.
    assert client.get(path, environ_base={"REMOTE_ADDR": "203.0.113.7"}).status_code == 200


def test_over_the_limit_is_refused_before_the_body_is_read(make_app):
    client = make_app(rate_limit="1 per hour").test_client()
    assert post(client).status_code == 201
    # Each of these would be 400 or 415 if the body were looked at.
    assert post(client, body=b"{not json").status_code == 429
    assert post(client, body=b"x", content_type="text/plain").status_code == 429


def test_headers_on_every_status_and_reset_is_the_windows_real_reset(make_app):
    client = make_app(rate_limit="5 per hour", max_body_bytes="100").test_client()
    before = time.time()
    responses = [
        post(client),
        post(client, body=b"{"),
        post(client, body=b"[" * 200),
        post(client, body=b"{}", content_type="text/csv"),
        post(client),
        post(client),
    ]
    after = time.time()
    assert [r.status_code for r in responses] == [201, 400, 413, 415, 201, 429]
    for used, response in enumerate(responses, start=1):
        assert response.headers["X-RateLimit-Limit"] == "5"
        assert response.headers["X-RateLimit-Remaining"] == str(max(0, 5 - used))
        # The fixed window starts at the first request and lasts an hour.
        reset = int(response.headers["X-RateLimit-Reset"])
        assert math.ceil(before + 3600) <= reset <= math.ceil(after + 3600)
    assert all("Retry-After" not in r.headers for r in responses[:-1])
    retry_after = int(responses[-1].headers["Retry-After"])
    assert reset - time.time() - 1 <= retry_after <= reset - before


def test_event_cost_counts_events_and_refuses_a_crossing_batch_whole(make_app):
    app = make_app(rate_limit="5 per hour", rate_limit_cost="event")
    client = app.test_client()
    first = post(client, events=3)
    assert (first.status_code, first.headers["X-RateLimit-Remaining"]) == (201, "2")
    crossing = post(client, events=3)
    assert crossing.status_code == 429
    # Refused whole: nothing stored, and nothing of the budget used up.
    assert crossing.headers["X-RateLimit-Remaining"] == "2"
    fits = post(client, events=2)
    assert (fits.status_code, fits.headers["X-RateLimit-Remaining"]) == (201, "0")
    assert len(stored(app)) == 5


def test_event_cost_of_an_unreadable_body_is_one_and_the_view_answers_its_own_error(make_app):
    client = make_app(rate_limit="5 per hour", rate_limit_cost="event").test_client()
    bad_json = post(client, body=b'{"messageBody": [')
    assert bad_json.status_code == 400
    assert bad_json.json["message"].startswith("request body is not valid JSON")
    assert bad_json.headers["X-RateLimit-Remaining"] == "4"
    wrong_type = post(client, body=b"{}", content_type="text/csv")
    assert wrong_type.status_code == 415
    assert wrong_type.headers["X-RateLimit-Remaining"] == "3"
    invalid_event = post(client, body=orjson.dumps({"messageBody": [{"eventType": ""}, EVENT]}))
    assert invalid_event.status_code == 400
    assert invalid_event.json["message"] == "invalid event type"
    assert invalid_event.headers["X-RateLimit-Remaining"] == "1"


def test_event_cost_parses_the_body_once(make_app, monkeypatch):
    from collector.ingest import parsing

    calls = []
    parse = parsing.read_payload
    monkeypatch.setattr(parsing, "read_payload", lambda request: calls.append(1) or parse(request))
    client = make_app(rate_limit="5 per hour", rate_limit_cost="event").test_client()
    assert post(client, events=2).status_code == 201
    assert len(calls) == 1


@pytest.mark.parametrize("strategy", ["moving-window", "sliding-window-counter"])
def test_other_strategies_admit_exactly_the_limit(make_app, strategy):
    # memory://: the one storage with both (sqlite:// has the fixed window only).
    client = make_app(rate_limit="3 per day", rate_limit_strategy=strategy, rate_limit_storage="memory://").test_client()
    statuses = [post(client).status_code for _ in range(5)]
    assert statuses == [201, 201, 201, 429, 429]


def test_a_batch_refused_by_the_longer_limit_uses_nothing_of_the_shorter_one(make_app):
    client = make_app(rate_limit="10 per hour;4 per day", rate_limit_cost="event").test_client()
    assert post(client, events=3).status_code == 201
    assert post(client, events=2).status_code == 429  # fits the hour, crosses the day
    last = post(client, events=1)
    assert last.status_code == 201
    # The headers describe the hour (the shortest window): 3 + 1 events used.
    assert (last.headers["X-RateLimit-Limit"], last.headers["X-RateLimit-Remaining"]) == ("10", "6")
