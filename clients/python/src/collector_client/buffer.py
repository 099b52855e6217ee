"""The bounded, thread-safe queue between the callers and the sending thread, and when a batch is due.

Policy when full: **drop the newest**. The event being added is refused
(`put` returns False) and counted; what is already queued stays, in order.
Dropping the oldest instead would silently lose events the caller was told
were accepted; refusing the new one tells the caller at once, and keeps the
queue FIFO. The overflow is logged once per episode: when the first event is
refused, and when the queue takes events again (with how many were dropped).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger("collector_client")


@dataclass(frozen=True)
class Limits:
    """A batch is due at `batch_size` events, `batch_bytes` bytes, or `flush_interval` s after its oldest event."""

    max_queue: int = 10_000
    batch_size: int = 100
    batch_bytes: int = 512 * 1024
    flush_interval: float = 5.0

    def __post_init__(self) -> None:
        if self.max_queue < 1 or self.batch_size < 1 or self.batch_bytes < 1:
            raise ValueError("max_queue, batch_size and batch_bytes must be at least 1")
        if self.flush_interval <= 0:
            raise ValueError("flush_interval must be more than 0")


class Buffer:
    """Encoded events waiting to be sent. Every method may be called from any thread."""

    def __init__(self, limits: Limits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.clock = clock
        self.dropped = 0  # refused because the queue was full, ever
        self._episode_dropped = 0
        self._items: deque[tuple[bytes, float]] = deque()
        self._cond = threading.Condition()
        self._accepted = 0  # events ever put
        self._taken = 0  # events ever handed to the sender
        self._finished = 0  # events the sender is done with (stored or given up)
        self._flush_upto = 0  # a flush() wants events up to this count sent now
        self._closed = False

    def put(self, encoded: bytes) -> bool:
        """Queue one encoded event; False (counted, logged once per episode) when the queue is full."""
        with self._cond:
            if self._closed:
                raise RuntimeError("the client is closed")
            if len(self._items) >= self.limits.max_queue:
                self.dropped += 1
                self._episode_dropped += 1
                if self._episode_dropped == 1:
                    logger.warning(
                        "collector_client: queue full (%d events): dropping new events until it drains",
                        self.limits.max_queue,
                    )
                return False
            if self._episode_dropped:
                logger.warning(
                    "collector_client: queue has room again; %d events were dropped while it was full",
                    self._episode_dropped,
                )
                self._episode_dropped = 0
            self._items.append((encoded, self.clock()))
            self._accepted += 1
            self._cond.notify_all()
            return True

    def __len__(self) -> int:
        with self._cond:
            return len(self._items)

    def due_in(self) -> float | None:
        """Seconds until a batch is due: 0 now, None when there is nothing to send. Call with the lock held."""
        if not self._items:
            return None
        if self._closed or self._flush_upto > self._taken or len(self._items) >= self.limits.batch_size:
            return 0.0
        oldest = self._items[0][1]
        return max(0.0, oldest + self.limits.flush_interval - self.clock())

    def take(self) -> list[bytes]:
        """The next batch if one is due (else []): at most batch_size events and batch_bytes bytes, at least one."""
        with self._cond:
            if self.due_in() != 0.0:
                return []
            batch: list[bytes] = []
            size = 0
            while self._items and len(batch) < self.limits.batch_size:
                encoded = self._items[0][0]
                if batch and size + len(encoded) + 1 > self.limits.batch_bytes:
                    break
                batch.append(self._items.popleft()[0])
                size += len(encoded) + 1
            self._taken += len(batch)
            return batch

    def wait_for_batch(self) -> list[bytes] | None:
        """Block until a batch is due and return it; None once closed and empty."""
        with self._cond:
            while True:
                due = self.due_in()
                if due == 0.0:
                    return self.take()
                if due is None and self._closed:
                    return None
                self._cond.wait(due)

    def finished(self, count: int) -> None:
        """The sender is done with `count` events (stored or given up)."""
        with self._cond:
            self._finished += count
            self._cond.notify_all()

    def flush(self, timeout: float | None) -> bool:
        """Ask for everything queued so far to be sent now; True once the sender is done with it, in time."""
        with self._cond:
            target = self._accepted
            self._flush_upto = max(self._flush_upto, target)
            self._cond.notify_all()
            return self._cond.wait_for(lambda: self._finished >= target, timeout)

    def close(self) -> None:
        """No more events: the sender drains what is queued and stops."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def pending(self) -> int:
        """Events accepted and not finished yet (queued or being sent)."""
        with self._cond:
            return self._accepted - self._finished
