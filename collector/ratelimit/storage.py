"""The memcached storage of the limits: right headers, one round trip, the outage policy.

A subclass of limits' `MemcachedStorage`, which is how limits lets a storage be
extended: the class registers its `collector+memcached` scheme with limits when
it is defined, and flask-limiter builds it from `storage_uri()`'s URI like any
other storage. It uses only the storage API (`incr`, `get`, `get_expiry`, ...)
and the pymemcache client that `MemcachedStorage.storage` documents.

What it changes:

- Fixed window: limits' own storage costs three round trips per request
  (`incr`, then `get` and `get_expiry` again for the headers) and creates a
  window's counter before the key holding its reset time, so a worker counting
  in between reports `X-RateLimit-Reset` as "now". Here a new window writes its
  reset time first; `get` right after this thread's own `incr` (or `decr`) of
  the same key returns the count memcached answered to it; and a window's reset
  time, which never changes, is remembered by each worker until it passes.
- A window over 30 days (`5 per year`; the sliding window's counters live two
  windows, so `per month` too) is sent as the Unix time it ends at: memcached
  would read its length in seconds as a time long past (memcachedexpiry.py).
- `decr` gives back what a refused request was charged (see limiter.py).
- A check (`incr`, `acquire_sliding_window_entry`) that memcached fails goes to
  the `StorageOutage` policy: admitted unchecked (`open`) or a 503 (`closed`).
  Reads for the headers raise, and the headers are left out.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from limits.storage import MemcachedStorage

from ..memcachedexpiry import expire
from . import sqlite_storage
from .outage import STORAGE_ERRORS, StorageOutage

SCHEME = "collector+memcached"
# Reset times remembered per worker: one per client key seen in a window.
# Beyond this many, the expired ones are dropped (or all, if none has expired).
MAX_REMEMBERED_WINDOWS = 100_000


def storage_uri(uri: str) -> str:
    """The URI flask-limiter is given for a COLLECTOR_RATE_LIMIT_STORAGE value."""
    if uri.startswith("memcached://"):
        return uri.replace("memcached", SCHEME, 1)
    if uri == "sqlite://":
        return sqlite_storage.SCHEME + "://"  # the file's path goes in storage_options
    return uri


class CollectorMemcachedStorage(MemcachedStorage):
    STORAGE_SCHEME = [SCHEME]  # noqa: RUF012 - a list because limits declares it so; never mutated

    def __init__(self, uri: str, outage: StorageOutage | None = None, **options: Any) -> None:
        super().__init__(uri.replace(SCHEME, "memcached", 1), **options)
        self.outage = outage or StorageOutage(uri, "open")
        self._resets: dict[str, float] = {}
        self._own_counts = threading.local()

    def close(self) -> None:
        """Close this thread's connection to memcached (a stopping worker, tests)."""
        client = getattr(self.local_storage, "storage", None)
        if client is not None:
            self.local_storage.storage = None
            client.close()

    # -- checks: a failure goes to the outage policy ----------------------

    def incr(self, key: str, expiry: float, amount: int = 1, set_expiration_key: bool = True) -> int:
        # 0: an unchecked request passes any limit (`open`).
        return self._check(lambda: self._incr(key, expiry, amount, set_expiration_key), admitted=0)

    def acquire_sliding_window_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        return self._check(lambda: super(CollectorMemcachedStorage, self).acquire_sliding_window_entry(
            key, limit, expiry, amount
        ), admitted=True)

    def _check(self, call: Callable[[], Any], admitted: Any) -> Any:
        try:
            result = call()
        except STORAGE_ERRORS as error:
            return self.outage.check_failed(error, admitted)
        self.outage.recovered()
        return result

    # -- the fixed window -------------------------------------------------

    def _incr(self, key: str, expiry: float, amount: int, set_expiration_key: bool) -> int:
        count = self.storage.incr(key, amount, noreply=False)
        if count is None:
            count = self._start_window(key, expiry, amount, set_expiration_key)
        elif count <= amount:
            # A window this worker did not see start (or memcached restarted):
            # what it remembers of the reset time may be stale.
            self._resets.pop(key, None)
        self._note_count(key, count)
        return count

    def _start_window(self, key: str, expiry: float, amount: int, set_expiration_key: bool) -> int:
        now = time.time()
        reset_at = now + expiry
        # Every expiry a window sends goes through here (the sliding window's
        # counters too, through `incr`): past 30 days memcached needs a Unix time.
        lifetime = expire(expiry, now)
        reset_key = self._reset_key(key)
        if set_expiration_key:
            # The reset time first: a counter is never seen without it.
            self.storage.add(reset_key, reset_at, expire=lifetime, noreply=False)
        if self.storage.add(key, amount, lifetime, noreply=False):
            if set_expiration_key:
                # This worker opened the window: its reset time is the one, even
                # over a stale key left from the window before.
                self.storage.set(reset_key, reset_at, expire=lifetime, noreply=False)
                self._remember(key, reset_at)
            return amount
        return self.storage.incr(key, amount, noreply=False) or amount

    def decr(self, key: str, amount: int = 1) -> int:
        """Take `amount` back from a window's count; the count after it.

        :raises: what pymemcache raises: the caller decides what a failed give-back means.
        """
        count = self.storage.decr(key, amount, noreply=False) or 0
        self._note_count(key, count)
        return count

    def get(self, key: str) -> int:
        count = self._counts().pop(key, None)
        return int(self.storage.get(key, "0")) if count is None else count

    def get_expiry(self, key: str) -> float:
        now = time.time()
        reset_at = self._resets.get(key)
        if reset_at is None or reset_at <= now:
            reset_at = float(self.storage.get(self._reset_key(key)) or now)
            if reset_at > now:
                self._remember(key, reset_at)
        return reset_at

    @staticmethod
    def _reset_key(key: str) -> str:
        # The key limits' MemcachedStorage uses for the same purpose: a mixed
        # fleet during an upgrade reads the same reset times.
        return key + "/expires"

    def _note_count(self, key: str, count: int) -> None:
        counts = self._counts()
        if len(counts) > 64:  # counts no header asked for; normally one or two
            counts.clear()
        counts[key] = count

    def _counts(self) -> dict[str, int]:
        counts = getattr(self._own_counts, "counts", None)
        if counts is None:
            counts = self._own_counts.counts = {}
        return counts

    def _remember(self, key: str, reset_at: float) -> None:
        if len(self._resets) >= MAX_REMEMBERED_WINDOWS:
            now = time.time()
            live = {k: v for k, v in self._resets.items() if v > now}
            self._resets = live if len(live) < MAX_REMEMBERED_WINDOWS else {}
        self._resets[key] = reset_at
