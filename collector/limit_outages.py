"""What the service does while its rate-limit storage (memcached) fails.

A failure is pymemcache refusing, timing out (COLLECTOR_RATE_LIMIT_TIMEOUT) or
answering nonsense: the limit of that request cannot be checked.
COLLECTOR_RATE_LIMIT_ON_ERROR decides: `open` lets the request through
unlimited, `closed` refuses it with 503. Either way the request is counted in
collector_rate_limit_unchecked_requests_total, and an outage logs one warning
when it starts and one line when the storage answers again, never a line per
request. Each worker process tracks its own outage: it is the one that sees it.
"""

from __future__ import annotations

import logging
import threading

from limits.errors import StorageError
from pymemcache.exceptions import MemcacheError

from .errors import RateLimitUnavailable
from .metrics import RATE_LIMIT_UNCHECKED

logger = logging.getLogger(__name__)

# Connection refused and timeouts are OSErrors; a bad reply is a MemcacheError.
STORAGE_ERRORS = (OSError, MemcacheError, StorageError)


class StorageOutage:
    """The outage state of one process's rate-limit storage."""

    def __init__(self, storage_uri: str, on_error: str) -> None:
        self.storage_uri = storage_uri
        self.fail_open = on_error == "open"
        self._down = False
        self._lock = threading.Lock()

    def record(self, error: Exception) -> None:
        """Note a failure; the first one of an outage is logged."""
        with self._lock:
            started, self._down = not self._down, True
        if started:
            logger.warning(
                "rate-limit storage %s failed (%s: %s); %s until it answers again",
                self.storage_uri,
                type(error).__name__,
                error,
                "admitting requests unlimited" if self.fail_open else "refusing requests with 503",
            )

    def unchecked(self) -> None:
        """Decide the fate of a request whose limit could not be checked.

        :raises RateLimitUnavailable: when COLLECTOR_RATE_LIMIT_ON_ERROR is closed.
        """
        if self.fail_open:
            RATE_LIMIT_UNCHECKED.labels(outcome="admitted").inc()
            return
        RATE_LIMIT_UNCHECKED.labels(outcome="refused").inc()
        raise RateLimitUnavailable("rate limits cannot be checked now; nothing was kept, resend later")

    def recovered(self) -> None:
        """Note a successful check; the first one after an outage is logged."""
        if not self._down:  # the common case, without taking the lock
            return
        with self._lock:
            ended, self._down = self._down, False
        if ended:
            logger.warning("rate-limit storage %s answers again; limits apply again", self.storage_uri)
