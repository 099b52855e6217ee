"""Rate limits of the real service under gunicorn, with real memcached and nginx.

Exact-count tests use hour or day windows: a fixed window starts at the
client's first request, but the sliding window counter's windows are aligned
to the clock, and a count must not be split by a boundary mid-test.
"""

from __future__ import annotations

import http.client
import itertools
import math
import re
import time
from concurrent.futures import ThreadPoolExecutor

import orjson
import pytest
import requests

from tests.servers import wait_until

pytestmark = pytest.mark.system

ONE_EVENT = {"messageBody": [{"eventType": "burst"}]}


def burst(services, requests_count=160, body=ONE_EVENT, headers_for=lambda n: {}):
    """`requests_count` posts from 16 concurrent clients, spread over `services` in turn."""
    targets = list(itertools.islice(itertools.cycle(services), requests_count))
    with ThreadPoolExecutor(16) as pool:
        return list(pool.map(lambda n: targets[n].post(body, headers=headers_for(n)), range(requests_count)))


def statuses(responses):
    return sorted(r.status_code for r in responses)


def worker_pids_in_file_names(service) -> set[int]:
    names = " ".join(path.name for path in service.data_dir.iterdir())
    return {pid for pid in service.worker_pids() if re.search(rf"-{pid}-\d+\.jsonl", names)}


def unchecked_count(service, outcome: str) -> float:
    text = requests.get(service.url + "/metrics", timeout=10).text
    match = re.search(rf'^collector_rate_limit_unchecked_requests_total\{{outcome="{outcome}"\}} (\S+)$', text, re.M)
    return float(match.group(1)) if match else 0.0


def assert_exact_across_workers(service) -> list[requests.Response]:
    """A burst of 160 against `100 per hour`: exactly 100 stored, served by several workers, one reset time."""
    before = time.time()
    responses = burst([service])
    after = time.time()
    assert statuses(responses) == [201] * 100 + [429] * 60
    assert len(service.events()) == 100
    assert len(worker_pids_in_file_names(service)) >= 2, "several workers should have served"
    # Every worker reports the same window, which started with the first request.
    [reset] = {r.headers["X-RateLimit-Reset"] for r in responses}
    assert math.ceil(before + 3600) <= int(reset) <= math.ceil(after + 3600)
    return responses


def test_memcached_limit_is_exact_across_four_workers_with_one_reset_time(start_service, memcached):
    service = start_service(rate_limit="100 per hour", rate_limit_storage=memcached.uri, workers="4")
    responses = assert_exact_across_workers(service)
    assert all(r.headers["X-RateLimit-Limit"] == "100" for r in responses)
    assert all(r.headers["X-RateLimit-Remaining"] == "0" for r in responses if r.status_code == 429)


def test_the_default_sqlite_limit_is_exact_across_workers_with_one_reset_time(start_service):
    # The Quick start's set-up: no storage named, so sqlite:// and a worker per core.
    service = start_service(rate_limit="100 per hour", workers="3")
    responses = assert_exact_across_workers(service)
    remaining = sorted(int(r.headers["X-RateLimit-Remaining"]) for r in responses if r.status_code == 201)
    assert remaining == list(range(100)), "each admitted request is told what its own hit left"


def test_two_instances_sharing_memcached_admit_exactly_the_limit(start_service, memcached):
    settings = dict(rate_limit="100 per hour", rate_limit_storage=memcached.uri, workers="2")
    first, second = start_service(**settings), start_service(**settings)
    responses = burst([first, second])
    assert statuses(responses) == [201] * 100 + [429] * 60
    stored = [len(first.events()), len(second.events())]
    assert sum(stored) == 100
    assert min(stored) > 0, "both instances should have admitted some"


def test_several_memcached_servers_share_the_clients_and_keep_each_limit_exact(
    start_service, make_memcached
):
    one, two = make_memcached(), make_memcached()
    uri = f"memcached://127.0.0.1:{one.port},127.0.0.1:{two.port}"
    service = start_service(rate_limit="5 per hour", rate_limit_storage=uri, workers="4", trusted_proxies="1")
    # 16 clients (as a trusted proxy names them), 8 requests each.
    responses = burst([service], 128, headers_for=lambda n: {"X-Forwarded-For": f"198.51.100.{n % 16}"})
    assert statuses(responses) == [201] * 80 + [429] * 48
    per_client = {}
    for event in service.events():
        per_client[event["client"]["ip"]] = per_client.get(event["client"]["ip"], 0) + 1
    assert per_client == {f"198.51.100.{n}": 5 for n in range(16)}
    assert int(one.stats()["curr_items"]) > 0 and int(two.stats()["curr_items"]) > 0


def test_sliding_window_counter_with_memcached_is_exact_across_workers(start_service, memcached):
    service = start_service(
        rate_limit="100 per day",
        rate_limit_storage=memcached.uri,
        rate_limit_strategy="sliding-window-counter",
        workers="4",
    )
    responses = burst([service])
    assert statuses(responses) == [201] * 100 + [429] * 60
    assert len(service.events()) == 100


def test_moving_window_in_memory_is_exact(start_service):
    service = start_service(rate_limit="100 per hour", rate_limit_strategy="moving-window", rate_limit_storage="memory://")
    responses = burst([service])
    assert statuses(responses) == [201] * 100 + [429] * 60
    assert len(service.events()) == 100


def test_moving_window_with_memcached_refuses_to_start(start_service, memcached):
    with pytest.raises(RuntimeError, match="not supported by memcached:// storage"):
        start_service(rate_limit_storage=memcached.uri, rate_limit_strategy="moving-window")


def test_event_cost_across_workers_admits_whole_batches_up_to_the_limit(start_service, memcached):
    service = start_service(
        rate_limit="50 per hour", rate_limit_storage=memcached.uri, rate_limit_cost="event", workers="4"
    )
    batch = {"messageBody": [{"eventType": "batch"}] * 3}
    responses = burst([service], 40, body=batch)
    # 16 batches of 3 fit in 50; a 17th would cross the limit and is refused whole.
    assert statuses(responses) == [201] * 16 + [429] * 24
    assert len(service.events()) == 48
    # A refused batch used up nothing: the 2 events left still go through.
    two = service.post({"messageBody": [{"eventType": "batch"}] * 2})
    assert (two.status_code, two.headers["X-RateLimit-Remaining"]) == (201, "0")


def test_fail_open_keeps_collecting_through_a_memcached_outage_and_limits_resume(start_service, memcached):
    service = start_service(rate_limit="3 per hour", rate_limit_storage=memcached.uri, workers="2")
    # Limits work, shown by another client: a client refused in this window
    # stays refused by the worker that refused it, outage or not (refusals.py).
    assert [post_from(service.url, "127.0.0.2", ONE_EVENT).status for _ in range(4)] == [201, 201, 201, 429]

    memcached.kill()
    during = [service.post(ONE_EVENT) for _ in range(6)]
    assert [r.status_code for r in during] == [201] * 6
    assert unchecked_count(service, "admitted") == 6
    failures = service.log().count("rate-limit storage memcached://")
    assert 1 <= failures <= 2, "one warning per worker and outage, not one per request"

    memcached.start()  # empty: the window starts afresh
    wait_until(lambda: "X-RateLimit-Remaining" in service.post(ONE_EVENT).headers, 30, "limits to apply again")
    # (a list: a 429 Response is falsy)
    [refused] = wait_until(
        lambda: [r for r in [service.post(ONE_EVENT)] if r.status_code == 429], 30, "a client over its limit again"
    )
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert "answers again; limits apply again" in service.log()
    assert len(service.events()) >= 3 + 6


def test_fail_closed_answers_503_while_memcached_is_down(start_service, memcached):
    service = start_service(
        rate_limit="100 per hour", rate_limit_storage=memcached.uri, rate_limit_on_error="closed", workers="2"
    )
    assert service.post(ONE_EVENT).status_code == 201

    memcached.kill()
    refused = [service.post(ONE_EVENT) for _ in range(4)]
    assert [r.status_code for r in refused] == [503] * 4
    assert refused[0].json() == {
        "error": "Service Unavailable",
        "message": "rate limits cannot be checked now; nothing was kept, resend later",
        "statusCode": 503,
        "code": "limit_storage_unavailable",
    }
    assert refused[0].headers["Retry-After"] == "5"
    assert unchecked_count(service, "refused") == 4
    # Load balancers and monitors still get through.
    assert requests.get(service.url + "/healthz", timeout=10).status_code == 200
    assert requests.get(service.url + "/readyz", timeout=10).status_code == 200

    memcached.start()
    wait_until(lambda: service.post(ONE_EVENT).status_code == 201, 30, "events to be accepted again")
    assert len(service.events()) == 2


def test_a_hung_memcached_never_hangs_a_request(start_service, memcached):
    service = start_service(
        rate_limit="100 per hour", rate_limit_storage=memcached.uri, rate_limit_timeout="0.5", workers="2"
    )
    assert service.post(ONE_EVENT).status_code == 201
    memcached.pause()
    try:
        # Without a pymemcache timeout this request would wait for memcached forever.
        response = service.post(ONE_EVENT, timeout=10)
    finally:
        memcached.resume()
    assert response.status_code == 201
    wait_until(lambda: "X-RateLimit-Remaining" in service.post(ONE_EVENT).headers, 30, "limits to apply again")


def post_from(url: str, source: str, body: dict, headers: dict | None = None) -> http.client.HTTPResponse:
    """A POST from a chosen loopback address (Linux routes all of 127/8 to lo)."""
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10, source_address=(source, 0))
    conn.request("POST", "/collect/event", orjson.dumps(body), {"Content-Type": "application/json", **(headers or {})})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def test_behind_nginx_a_forged_forwarded_for_never_buys_a_fresh_limit(start_service, start_nginx):
    service = start_service(rate_limit="2 per hour", trusted_proxies="1")
    # nginx appends the address it sees to whatever the client sent.
    nginx = start_nginx(service, forwarded_for="$proxy_add_x_forwarded_for")
    assert [post_from(nginx.url, "127.0.0.1", ONE_EVENT).status for _ in range(2)] == [201, 201]
    forged = {"X-Forwarded-For": "198.51.100.7"}
    assert post_from(nginx.url, "127.0.0.1", ONE_EVENT, forged).status == 429
    # Another client behind the same nginx has its own budget.
    assert post_from(nginx.url, "127.0.0.2", ONE_EVENT, forged).status == 201
    assert sorted(event["client"]["ip"] for event in service.events()) == ["127.0.0.1", "127.0.0.1", "127.0.0.2"]


def test_without_a_trusted_proxy_nginx_is_one_client(start_service, start_nginx):
    service = start_service(rate_limit="2 per hour")
    nginx = start_nginx(service, forwarded_for="$remote_addr")
    assert post_from(nginx.url, "127.0.0.1", ONE_EVENT).status == 201
    assert post_from(nginx.url, "127.0.0.2", ONE_EVENT).status == 201
    assert post_from(nginx.url, "127.0.0.3", ONE_EVENT).status == 429
