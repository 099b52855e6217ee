"""The Client: callers queue events, one background thread sends them in batches and retries."""

from __future__ import annotations

import atexit
import datetime
import gzip
import json
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from . import __version__
from .buffer import Buffer, Limits
from .retry import Policy, decide
from .transport import Answer, Transport

logger = logging.getLogger("collector_client")


class Client:
    """Sends events to one collector's `POST /collect/event`, from a background thread.

    `track()` and `send()` only queue (they never block on the network); a
    thread sends batches, each with its own Idempotency-Key kept across its
    retries, so the collector stores a batch once however often it is resent.
    """

    def __init__(
        self,
        url: str,
        write_key: str | None = None,
        *,
        header: Mapping[str, Any] | None = None,
        max_queue: int = 10_000,
        batch_size: int = 100,
        batch_bytes: int = 512 * 1024,
        flush_interval: float = 5.0,
        timeout: float = 10.0,
        max_attempts: int = 10,
        first_backoff: float = 0.5,
        max_backoff: float = 30.0,
        max_retry_after: float = 300.0,
        compress: bool = False,
        shutdown_timeout: float = 30.0,
        at_exit: bool = True,
        sleep: Callable[[float], None] = time.sleep,
        rand: random.Random | None = None,
    ) -> None:
        self.limits = Limits(max_queue, batch_size, batch_bytes, flush_interval)
        self.policy = Policy(max_attempts, first_backoff, max_backoff, max_retry_after)
        self.write_key = write_key
        self.header = dict(header or {})
        self.compress = compress
        self.shutdown_timeout = shutdown_timeout
        self.sleep = sleep
        self.rand = rand or random.Random()
        self.transport = Transport(url, timeout, f"collector-client-python/{__version__}")
        self.buffer = Buffer(self.limits)
        self.stats = {"sent": 0, "batches": 0, "retries": 0, "refused": 0, "gave_up": 0}
        self._stats_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="collector-client", daemon=True)
        self._thread.start()
        if at_exit:
            atexit.register(self._at_exit)

    # -- callers' side ---------------------------------------------------

    def track(
        self,
        event_type: str,
        properties: Mapping[str, Any] | None = None,
        **fields: Any,
    ) -> str | None:
        """Queue an event of `event_type`; its eventId, or None when the full queue dropped it.

        `fields` are the contract's other event fields by their JSON names
        (`userId`, `anonymousId`, `sessionId`, `context`, `timestamp`, `eventId`).
        """
        event: dict[str, Any] = {"eventType": event_type, **fields}
        if properties is not None:
            event["properties"] = dict(properties)
        return self.send(event)

    def send(self, event: Mapping[str, Any]) -> str | None:
        """Queue one event as the contract shapes it; its eventId, or None when the full queue dropped it.

        An `eventId` (UUID4) and a `timestamp` (now, UTC) are added when absent,
        before the first attempt, so every resend carries the same ones.

        :raises ValueError, TypeError: the event cannot be JSON (NaN, a set, ...), or
            alone is larger than `batch_bytes`: a bug at the call site, said there.
        """
        event = {**event}
        event.setdefault("eventId", str(uuid.uuid4()))
        event.setdefault("timestamp", _now_rfc3339())
        encoded = json.dumps(event, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
        if len(encoded) + 64 > self.limits.batch_bytes:
            raise ValueError(f"event of {len(encoded)} bytes is over batch_bytes={self.limits.batch_bytes}")
        return event["eventId"] if self.buffer.put(encoded) else None

    @property
    def dropped(self) -> int:
        """Events refused because the queue was full."""
        return self.buffer.dropped

    def flush(self, timeout: float | None = None) -> bool:
        """Send everything queued so far now and wait; True when all of it was stored or given up in time."""
        return self.buffer.flush(timeout)

    def close(self, timeout: float | None = None) -> bool:
        """Send what is queued (waiting at most `timeout`), then stop; True when nothing was left behind."""
        self.buffer.close()
        self._thread.join(timeout)
        done = not self._thread.is_alive()
        if not done:
            logger.warning("collector_client: closed with %d events not sent yet", self.buffer.pending)
        atexit.unregister(self._at_exit)
        return done

    def _at_exit(self) -> None:
        self.close(self.shutdown_timeout)

    # -- the sending thread ---------------------------------------------

    def _run(self) -> None:
        while (batch := self.buffer.wait_for_batch()) is not None:
            try:
                self._deliver(batch)
            except Exception:  # a bug here must not kill the thread and strand the queue
                logger.exception("collector_client: unexpected error sending a batch of %d events", len(batch))
                self._count("gave_up", len(batch))
            finally:
                self.buffer.finished(len(batch))
        self.transport.close()

    def _deliver(self, batch: list[bytes]) -> None:
        """Send one batch until it is stored, refused for good, or given up."""
        body, headers = self._request(batch)
        attempt = 0
        while True:
            attempt += 1
            answer = self.transport.post(body, headers)
            decision = decide(attempt, answer.status, answer.code, answer.retry_after, self.policy, self.rand)
            if decision.wait is None:
                self._finish(batch, answer, decision.why)
                return
            self._count("retries", 1)
            logger.info("collector_client: attempt %d: %s; resending in %.2f s", attempt, decision.why, decision.wait)
            self.sleep(decision.wait)

    def _request(self, batch: list[bytes]) -> tuple[bytes, dict[str, str]]:
        """The batch's body and headers, made once: every resend is byte-identical, with the same key."""
        body = b'{"messageBody":[' + b",".join(batch) + b"]"
        if self.header:
            body += b',"messageheader":' + json.dumps(self.header, separators=(",", ":")).encode()
        body += b"}"
        headers = {"Idempotency-Key": f"batch-{uuid.uuid4()}"}
        if self.write_key:
            headers["X-Collector-Key"] = self.write_key
        if self.compress:
            body, headers["Content-Encoding"] = gzip.compress(body), "gzip"
        return body, headers

    def _finish(self, batch: list[bytes], answer: Answer, why: str) -> None:
        if answer.status is not None and 200 <= answer.status < 300:
            self._count("sent", len(batch))
            self._count("batches", 1)
            return
        kind = "gave_up" if why.startswith("gave up") else "refused"
        self._count(kind, len(batch))
        logger.error("collector_client: dropped a batch of %d events, %s %s", len(batch), why, answer.detail)

    def _count(self, name: str, n: int) -> None:
        with self._stats_lock:
            self.stats[name] += n


def _now_rfc3339() -> str:
    now = datetime.datetime.now(datetime.UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
