"""Rate limits in a real memcached: long windows, and a flushed or restarted memcached."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.system

ONE_EVENT = {"messageBody": [{"eventType": "window"}]}


@pytest.mark.parametrize(
    "limit, strategy",
    [
        ("5 per year", "fixed-window"),
        ("5 per year", "sliding-window-counter"),
        ("5 per month", "sliding-window-counter"),
    ],
)
def test_a_window_over_thirty_days_admits_exactly_its_limit(start_service, memcached, limit, strategy):
    # memcached reads a relative expiry over 30 days as a Unix time (long past): the window must survive it.
    service = start_service(rate_limit=limit, rate_limit_strategy=strategy, rate_limit_storage=memcached.uri)
    answers = [service.post(ONE_EVENT).status_code for _ in range(12)]
    assert answers == [201] * 5 + [429] * 7


@pytest.mark.parametrize("forget", ["flush", "restart"])
def test_a_refused_client_is_let_through_once_memcached_forgot_its_window(start_service, memcached, forget):
    service = start_service(rate_limit="2 per hour", rate_limit_storage=memcached.uri, workers="1")
    # The third is refused by the limiter; the fourth by the worker's replay of that refusal.
    assert [service.post(ONE_EVENT).status_code for _ in range(4)] == [201, 201, 429, 429]
    if forget == "flush":
        memcached.flush()
    else:
        memcached.stop()
        memcached.start()
    # As docs/rate-limits.md says, a memcached that forgot the window starts it afresh.
    assert service.post(ONE_EVENT).status_code == 201
    assert len(service.events()) == 3
