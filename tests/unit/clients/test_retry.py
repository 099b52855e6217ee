"""clients/python/src/collector_client/retry.py: which answers are resent, and when."""

from __future__ import annotations

import random

import pytest

from collector_client.retry import Policy, backoff, decide, is_retryable, retry_after_seconds

POLICY = Policy(max_attempts=5, first_backoff=0.5, max_backoff=4.0, max_retry_after=60.0)


class Extremes(random.Random):
    """A random source that always gives the low (or high) end: the schedule's bounds, exactly."""

    def __init__(self, high: bool) -> None:
        super().__init__()
        self.high = high

    def uniform(self, a, b):
        return b if self.high else a


def test_backoff_doubles_up_to_its_cap_with_half_of_each_step_random():
    low = [backoff(attempt, POLICY, Extremes(False)) for attempt in range(1, 8)]
    high = [backoff(attempt, POLICY, Extremes(True)) for attempt in range(1, 8)]
    assert low == [0.25, 0.5, 1.0, 2.0, 2.0, 2.0, 2.0]
    assert high == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0]


def test_backoff_is_spread_between_its_bounds():
    rand = random.Random(7)
    waits = [backoff(3, POLICY, rand) for _ in range(200)]
    assert all(1.0 <= wait <= 2.0 for wait in waits)
    assert len({round(wait, 3) for wait in waits}) > 50  # jittered, not one value


def test_backoff_of_a_huge_attempt_number_is_still_the_cap():
    assert backoff(10_000, POLICY, Extremes(True)) == 4.0


@pytest.mark.parametrize(
    ("status", "code", "retried"),
    [
        (None, None, True),  # no answer: refused connection, reset, timeout
        (500, "internal_error", True),
        (502, None, True),
        (503, "storage_unavailable", True),
        (503, "idempotency_state_busy", True),
        (503, "collector_unavailable", True),
        (504, None, True),
        (429, "rate_limited", True),
        (408, None, True),
        (409, "idempotency_key_in_flight", True),
        (409, "something_else", False),
        (400, "invalid_event_type", False),
        (401, "invalid_write_key", False),
        (413, "body_too_large", False),
        (422, "idempotency_key_reused", False),
    ],
)
def test_what_is_resent(status, code, retried):
    assert is_retryable(status, code) is retried


def test_a_201_is_done_and_a_final_4xx_is_given_up_at_once():
    assert decide(1, 201, None, None, POLICY).wait is None
    refused = decide(1, 401, "invalid_write_key", None, POLICY)
    assert refused.wait is None and refused.why == "refused for good: 401 invalid_write_key"


def test_retry_after_is_honoured_as_sent_and_bounded():
    assert decide(1, 429, "rate_limited", 7.0, POLICY).wait == 7.0
    assert decide(2, 503, "storage_unavailable", 5.0, POLICY).wait == 5.0
    assert decide(1, 429, "rate_limited", 3600.0, POLICY).wait == 60.0


def test_without_retry_after_a_failure_backs_off():
    assert decide(3, None, None, None, POLICY, Extremes(True)).wait == 2.0


def test_attempts_are_bounded():
    assert decide(4, 503, "storage_unavailable", 1.0, POLICY).wait == 1.0
    last = decide(5, 503, "storage_unavailable", 1.0, POLICY)
    assert last.wait is None and last.why.startswith("gave up after 5 attempts")


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("5", 5.0),
        (" 12 ", 12.0),
        ("Sun, 06 Dec 2026 04:00:30 GMT", 30.0),
        ("Sun, 06 Dec 2026 03:59:00 GMT", 0.0),  # in the past: now
        (None, None),
        ("soon", None),
        ("-3", None),
    ],
)
def test_retry_after_as_seconds_or_an_http_date(header, seconds):
    now = 1796529600.0  # 2026-12-06T04:00:00Z
    assert retry_after_seconds(header, now) == seconds


@pytest.mark.parametrize("bad", [dict(max_attempts=0), dict(first_backoff=0), dict(first_backoff=5, max_backoff=1)])
def test_a_policy_that_cannot_work_is_refused(bad):
    with pytest.raises(ValueError):
        Policy(**bad)
