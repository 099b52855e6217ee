"""What the service does while its rate-limit storage (memcached, or the SQLite file) fails.

A failure is pymemcache refusing, timing out (COLLECTOR_RATE_LIMIT_TIMEOUT) or
answering nonsense, or the SQLite file staying locked past that timeout or
failing to write: the limit of that request cannot be checked.
COLLECTOR_RATE_LIMIT_ON_ERROR decides: `open` lets the request through
unlimited (and without X-RateLimit-* headers, which would be made up), `closed`
refuses it with 503. Either way the request is counted once in
collector_rate_limit_unchecked_requests_total, and an outage logs one warning
when it starts and one line when the storage answers again, never a line per
request. Each worker process tracks its own outage: it is the one that sees it.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from typing import TypeVar

from limits.errors import StorageError
from pymemcache.exceptions import MemcacheError

from ..errors import LIMIT_STORAGE_UNAVAILABLE, CollectorError
from ..ops.metrics import RATE_LIMIT_STORAGE_ERRORS, RATE_LIMIT_UNCHECKED

logger = logging.getLogger(__name__)

# Connection refused and timeouts are OSErrors; a bad reply is a MemcacheError;
# a SQLite file locked past the timeout, or on a full disk, a sqlite3.Error.
STORAGE_ERRORS = (OSError, MemcacheError, StorageError, sqlite3.Error)

T = TypeVar("T")


class StorageOutage:
    """The outage state of one process's rate-limit storage, and the policy for a failed check."""

    def __init__(self, storage_uri: str, on_error: str) -> None:
        self.storage_uri = storage_uri
        self.fail_open = on_error == "open"
        self._down = False
        self._lock = threading.Lock()
        # Whether the current request (one per thread at a time) had its check fail.
        self._request = threading.local()

    def begin_request(self) -> None:
        """Forget the previous request's failure: called before each request's check."""
        self._request.unchecked = False

    def request_unchecked(self) -> bool:
        """Whether the current request's limit could not be checked (and it was let through)."""
        return getattr(self._request, "unchecked", False)

    def check_failed(self, error: Exception, admitted: T) -> T:
        """The answer to a check the storage failed: `admitted` with `open`, a 503 with `closed`.

        :raises CollectorError: LIMIT_STORAGE_UNAVAILABLE when COLLECTOR_RATE_LIMIT_ON_ERROR is closed.
        """
        self.record(error)
        first_in_request = not self.request_unchecked()
        self._request.unchecked = True
        if self.fail_open:
            if first_in_request:
                RATE_LIMIT_UNCHECKED.labels(outcome="admitted").inc()
            return admitted
        RATE_LIMIT_UNCHECKED.labels(outcome="refused").inc()
        raise CollectorError(
            LIMIT_STORAGE_UNAVAILABLE, "rate limits cannot be checked now; nothing was kept, resend later"
        )

    def record(self, error: Exception) -> None:
        """Note a failure; the first one of an outage is logged."""
        RATE_LIMIT_STORAGE_ERRORS.inc()
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

    def recovered(self) -> None:
        """Note a successful call; the first one after an outage is logged."""
        if not self._down:  # the common case, without taking the lock
            return
        with self._lock:
            ended, self._down = self._down, False
        if ended:
            logger.warning("rate-limit storage %s answers again; limits apply again", self.storage_uri)
