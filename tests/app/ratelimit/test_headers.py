"""The X-RateLimit-* headers tell the truth with every storage and every strategy.

The same sequence of requests runs against memory:// and a real memcached; the
answers and their headers must be the same. (Found tried as a new user would:
with memcached and a per-event cost, a refused batch answered
`X-RateLimit-Remaining: 0` while memory:// said, truthfully, 2.)
"""

from __future__ import annotations

import time

import pytest

from tests.app.ratelimit.test_limiter import post

# (events in the request, remote address): one client, then another one.
SEQUENCE = [(3, "203.0.113.7")] * 16 + [(3, "203.0.113.7"), (2, "203.0.113.7"), (1, "203.0.113.7"), (1, "203.0.113.8")]


def answers(make_app, storage: str, strategy: str, cost: str) -> list[tuple]:
    client = make_app(
        rate_limit="50 per hour",
        rate_limit_storage=storage,
        rate_limit_strategy=strategy,
        rate_limit_cost=cost,
    ).test_client()
    seen = []
    for events, address in SEQUENCE:
        response = post(client, events=events, remote_addr=address)
        headers = response.headers
        seen.append(
            (
                response.status_code,
                headers.get("X-RateLimit-Limit"),
                headers.get("X-RateLimit-Remaining"),
                int(headers["X-RateLimit-Reset"]),
                "Retry-After" in headers,
            )
        )
    return seen


@pytest.mark.parametrize("strategy", ["fixed-window", "sliding-window-counter"])
@pytest.mark.parametrize("cost", ["request", "event"])
def test_memcached_answers_with_the_same_headers_as_memory(make_app, memcached, strategy, cost):
    started = time.time()
    in_memory = answers(make_app, "memory://", strategy, cost)
    between = time.time() - started
    in_memcached = answers(make_app, memcached.uri, strategy, cost)
    # The same answers and headers; the same reset time give or take the time
    # between the two runs (a fixed window starts at a run's first request) and
    # a second of rounding. Before, resets were compared in 10 s buckets, which
    # failed when the two runs fell either side of a bucket's edge.
    without_reset = [(status, limit, left, retry) for status, limit, left, _, retry in in_memcached]
    assert without_reset == [(status, limit, left, retry) for status, limit, left, _, retry in in_memory]
    for (*_, memcached_reset, _), (*_, memory_reset, _) in zip(in_memcached, in_memory, strict=True):
        assert abs(memcached_reset - memory_reset) <= between + 1


@pytest.mark.parametrize("storage", ["memory", "memcached"])
def test_a_refused_batch_reports_what_is_really_left(make_app, memcached, storage):
    uri = memcached.uri if storage == "memcached" else "memory://"
    seen = answers(make_app, uri, "fixed-window", "event")
    statuses = [status for status, *_ in seen]
    remaining = [left for _, _, left, *_ in seen]
    assert statuses == [201] * 16 + [429, 201, 429, 201]
    assert remaining[:16] == [str(50 - 3 * n) for n in range(1, 17)]
    # 48 used: the batch of 3 is refused whole and uses nothing; 2 are left,
    # and a batch of 2 then fits exactly.
    assert remaining[16:] == ["2", "0", "0", "49"]
