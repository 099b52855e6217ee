"""memcached storage for the fixed-window limits: right headers, one round trip.

limits' `MemcachedStorage` costs three memcached round trips per request in
the fixed-window strategy: `incr` for the count, then `get` and `get_expiry`
again for the X-RateLimit-* headers. It also creates a window's counter
before the key that holds the window's reset time, so a worker that counts in
between reports `X-RateLimit-Reset` as "now".

This subclass (registered as the `collector+memcached` scheme, which
`limits.build_limiter` uses for `memcached://` URIs) changes only that:

- a new window writes its reset time before its counter, so whoever sees the
  counter also finds the reset time;
- `get` right after this thread's own `incr` of the same key returns the
  count that `incr` answered, instead of asking memcached again (that count is
  also the one this request was judged by);
- a window's reset time never changes, so each worker remembers it until it
  passes.

Everything else (other strategies, several servers, errors) is limits' own code.
"""

from __future__ import annotations

import threading
import time
from math import ceil

from limits.storage import MemcachedStorage

SCHEME = "collector+memcached"
# Reset times remembered per worker: one per client key seen in a window.
# Beyond this many, the expired ones are dropped (or all, if none has expired).
MAX_REMEMBERED_WINDOWS = 100_000


class FixedWindowMemcachedStorage(MemcachedStorage):
    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str, **options) -> None:
        super().__init__(uri.replace(SCHEME, "memcached", 1), **options)
        self._resets: dict[str, float] = {}
        self._own_counts = threading.local()

    def incr(self, key: str, expiry: float, amount: int = 1, set_expiration_key: bool = True) -> int:
        count = self.storage.incr(key, amount, noreply=False)
        if count is None:
            count = self._start_window(key, expiry, amount)
        elif count <= amount:
            # A window this worker did not see start (or memcached restarted):
            # what it remembers of the reset time may be stale.
            self._resets.pop(key, None)
        counts = self._counts()
        if len(counts) > 64:  # counts no header asked for; normally one or two
            counts.clear()
        counts[key] = count
        return count

    def _start_window(self, key: str, expiry: float, amount: int) -> int:
        reset_at = time.time() + expiry
        reset_key = self._expiration_key(key)
        # The reset time first: a counter is never seen without it.
        self.storage.add(reset_key, reset_at, expire=ceil(expiry), noreply=False)
        if self.storage.add(key, amount, ceil(expiry), noreply=False):
            # This worker opened the window: its reset time is the one, even
            # over a stale key left from the window before.
            self.storage.set(reset_key, reset_at, expire=ceil(expiry), noreply=False)
            self._remember(key, reset_at)
            return amount
        return self.storage.incr(key, amount, noreply=False) or amount

    def get(self, key: str) -> int:
        count = self._counts().pop(key, None)
        return super().get(key) if count is None else count

    def get_expiry(self, key: str) -> float:
        now = time.time()
        reset_at = self._resets.get(key)
        if reset_at is None or reset_at <= now:
            reset_at = super().get_expiry(key)
            if reset_at > now:
                self._remember(key, reset_at)
        return reset_at

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
