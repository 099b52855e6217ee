"""The expiry to send memcached for a lifetime in seconds: relative up to 30 days, a Unix time beyond.

memcached reads an expiry over 30 days (2,592,000 s) as an absolute Unix time
(its protocol.txt, "Expiration times"): a 31-day window sent as 2,678,400
means January 1970, already past, and the item is gone as soon as it is set.
So a rate-limit window of `5 per year`, or an idempotency window of 31 days,
would forget every request at once. Past 30 days the expiry is sent as the
Unix time it ends at, read from this machine's clock: a clock off from
memcached's by some seconds shifts such an expiry by as much, which is
nothing at that scale.
"""

from __future__ import annotations

import math
import time

# The longest expiry memcached reads as seconds from now.
MAX_RELATIVE_SECONDS = 30 * 24 * 3600


def expire(seconds: float, now: float | None = None) -> int:
    """The `expire` argument for an item that must live `seconds` (rounded up) from `now`."""
    whole = math.ceil(seconds)
    if whole <= MAX_RELATIVE_SECONDS:
        return whole
    return math.ceil((time.time() if now is None else now) + seconds)
