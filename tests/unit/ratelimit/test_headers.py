"""The X-RateLimit-* and Retry-After headers, as one function words them."""

from __future__ import annotations

import math
import time

import pytest

from collector.ratelimit.headers import rate_limit_headers


def test_an_admitted_request_gets_limit_remaining_and_reset_without_retry_after():
    assert rate_limit_headers(100, 42, 1_795_669_060.0, refused=False) == [
        ("X-RateLimit-Limit", "100"),
        ("X-RateLimit-Remaining", "42"),
        ("X-RateLimit-Reset", "1795669060"),
    ]


@pytest.mark.parametrize(
    "reset_at, header",
    [(1_795_669_060.0, "1795669060"), (1_795_669_060.001, "1795669061"), (1_795_669_060.999, "1795669061")],
)
def test_reset_is_the_first_whole_second_at_which_the_window_has_reset(reset_at, header):
    assert dict(rate_limit_headers(100, 0, reset_at, refused=False))["X-RateLimit-Reset"] == header


def test_the_limit_is_written_as_given():
    # A replayed refusal (refusals.py) passes the limit it remembered as text.
    assert dict(rate_limit_headers("2", 0, 1_795_669_060.0, refused=True))["X-RateLimit-Limit"] == "2"


def test_a_refusal_says_how_many_whole_seconds_to_wait():
    reset_at = time.time() + 30.25
    before = time.time()
    headers = dict(rate_limit_headers(100, 0, reset_at, refused=True))
    after = time.time()
    assert math.ceil(reset_at - after) <= int(headers["Retry-After"]) <= math.ceil(reset_at - before)
    assert headers["X-RateLimit-Reset"] == str(math.ceil(reset_at))


@pytest.mark.parametrize("seconds_left", [0.001, 0.0, -5.0])
def test_retry_after_is_at_least_one_second_even_at_or_past_the_reset(seconds_left):
    headers = dict(rate_limit_headers(100, 0, time.time() + seconds_left, refused=True))
    assert headers["Retry-After"] == "1"
