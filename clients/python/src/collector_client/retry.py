"""What to do with the collector's answer to a batch: done, resend (and when), or give up.

Pure functions: the caller passes the attempt number, the answer and its own
random source, so the schedule is tested without a clock or a network.
"""

from __future__ import annotations

import email.utils
import random as _random
from dataclasses import dataclass

# Answers after which a resend can succeed. 5xx: the collector (or a proxy in
# front of it) could not store the batch now; its 503s say "nothing was kept,
# resend". 429: over the rate limit. 408: the server timed out reading us.
RETRIED_4XX = frozenset({408, 429})
# A 409 is resent only when the collector says the same Idempotency-Key is
# being stored right now: the resend gets that request's 201. Any other 409
# would be a conflict that a resend repeats.
IN_FLIGHT_CODE = "idempotency_key_in_flight"


@dataclass(frozen=True)
class Policy:
    """How hard to try. Every wait is bounded, so a batch is given up in bounded time."""

    max_attempts: int = 10
    first_backoff: float = 0.5
    max_backoff: float = 30.0
    max_retry_after: float = 300.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not 0 < self.first_backoff <= self.max_backoff:
            raise ValueError("need 0 < first_backoff <= max_backoff")
        if self.max_retry_after < 0:
            raise ValueError("max_retry_after must be 0 or more")


@dataclass(frozen=True)
class Decision:
    """`wait` is None when the batch is finished (stored, or refused for good)."""

    wait: float | None
    why: str


def backoff(attempt: int, policy: Policy, rand: _random.Random | None = None) -> float:
    """Seconds to wait after failed attempt `attempt` (1-based): exponential, capped, with equal jitter.

    Half of the exponential step is kept and half is random ("equal jitter"):
    many clients that failed together spread out, yet none comes back at once.
    """
    step = min(policy.max_backoff, policy.first_backoff * 2.0 ** min(attempt - 1, 60))
    uniform = _random.uniform if rand is None else rand.uniform
    return step / 2 + uniform(0, step / 2)


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """A Retry-After header in seconds from `now` (epoch): delta-seconds or an HTTP date; None if absent or bad."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # an HTTP date is GMT by definition
        return None
    return max(0.0, when.timestamp() - now)


def is_retryable(status: int | None, code: str | None) -> bool:
    """Whether a resend of the same batch can succeed. `status` None: no answer (connection failed)."""
    if status is None or status >= 500 or status in RETRIED_4XX:
        return True
    return status == 409 and code == IN_FLIGHT_CODE


def decide(
    attempt: int,
    status: int | None,
    code: str | None,
    retry_after: float | None,
    policy: Policy,
    rand: _random.Random | None = None,
) -> Decision:
    """After attempt `attempt` got `status` (None: no answer), whether and when to resend."""
    if status is not None and 200 <= status < 300:
        return Decision(None, "stored")
    what = "no answer" if status is None else f"{status} {code or ''}".strip()
    if not is_retryable(status, code):
        return Decision(None, f"refused for good: {what}")
    if attempt >= policy.max_attempts:
        return Decision(None, f"gave up after {attempt} attempts: {what}")
    if retry_after is not None:
        # Honoured as asked (never earlier: the collector rounds it up), but
        # bounded, so that one answer cannot park the queue for hours.
        return Decision(min(retry_after, policy.max_retry_after), f"{what}; Retry-After {retry_after:g} s")
    return Decision(backoff(attempt, policy, rand), f"{what}; backing off")
