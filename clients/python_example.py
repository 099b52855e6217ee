#!/usr/bin/env python3
"""Send events to the collector from Python: a batch per request, retried only when that is safe.

    pip install requests
    python3 clients/python_example.py --url http://127.0.0.1:8000 --events 3
    COLLECTOR_WRITE_KEY=... python3 clients/python_example.py --url https://collect.example.com

Copy `CollectorClient` into a back-end job; `main` shows it used. What it does:

- One `requests.Session`: connections are kept alive between batches.
- Events go in batches (`messageBody`, up to COLLECTOR_MAX_EVENTS, 500 by
  default): one request, one write, one `pingId` for the lot.
- Each event gets its `eventId` (a UUID4) here, before the first attempt, so a
  batch resent after a timeout carries the same ids: whatever reads the
  events can drop the copies (the collector stores a resent event again).
- The write key, when the collector has keys, goes in `Authorization: Bearer`.
- Retries: a `429` waits as long as its `Retry-After` says; a `503` (the
  collector cannot store now, or nginx cannot reach it), a `502`/`504` and a
  failed connection or timeout back off exponentially, with jitter, so that
  many clients do not come back at the same instant. Nothing else is retried:
  another 4xx means the request itself is wrong (a bad event, a bad key) and
  would be refused again; it is raised with the collector's `code`.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import requests

RETRIED_STATUSES = frozenset({429, 502, 503, 504})


class SendFailed(Exception):
    """The collector refused the batch for good, or did not take it after every attempt."""

    def __init__(self, message: str, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class CollectorClient:
    """Sends batches of events to one collector."""

    def __init__(
        self,
        url: str,
        write_key: str | None = None,
        *,
        timeout: float = 10,
        max_attempts: int = 6,
        first_backoff: float = 0.5,
        max_backoff: float = 30,
        max_retry_after: float = 300,
        compress: bool = False,
        sleep: Callable[[float], None] = time.sleep,
        log: Callable[[str], None] = lambda line: print(line, file=sys.stderr),
    ) -> None:
        self.endpoint = url.rstrip("/") + "/collect/event"
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.first_backoff = first_backoff
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self.compress = compress
        self.sleep = sleep
        self.log = log
        self.session = requests.Session()
        self.session.headers.update({"Content-Type": "application/json", "User-Agent": "collector-python-example/1"})
        if write_key:
            self.session.headers["Authorization"] = f"Bearer {write_key}"

    def close(self) -> None:
        self.session.close()

    def send(self, events: Iterable[Mapping[str, Any]], header: Mapping[str, Any] | None = None) -> str:
        """Store `events` (each given an `eventId` if it has none); the batch's pingId.

        :raises SendFailed: refused for good (a 4xx other than 429), or not stored after `max_attempts`.
        """
        batch = [{**event, "eventId": event.get("eventId") or str(uuid.uuid4())} for event in events]
        body = json.dumps({"messageBody": batch, **({"messageheader": dict(header)} if header else {})}).encode()
        headers = {}
        if self.compress:
            body, headers = gzip.compress(body), {"Content-Encoding": "gzip"}
        for attempt in range(1, self.max_attempts + 1):
            wait, why = self._attempt(body, headers, attempt)
            if wait is None:
                return why  # the pingId
            if attempt == self.max_attempts:
                raise SendFailed(f"not stored after {attempt} attempts: {why}")
            self.log(f"attempt {attempt}: {why}; retrying in {wait:.1f} s")
            self.sleep(wait)
        raise AssertionError("unreachable")

    def _attempt(self, body: bytes, headers: dict[str, str], attempt: int) -> tuple[float | None, str]:
        """(None, pingId) when stored; else (seconds to wait, why) for a retry.

        :raises SendFailed: for an answer that a retry would not change.
        """
        try:
            response = self.session.post(self.endpoint, data=body, headers=headers, timeout=self.timeout)
        except (requests.ConnectionError, requests.Timeout) as error:
            # A timeout may come after the collector stored the batch: the
            # resent copy has the same eventIds.
            return self._backoff(attempt), type(error).__name__
        if response.status_code == 201:
            return None, json.loads(response.json()["value"])["pingId"]
        code, message = _error_of(response)
        if response.status_code not in RETRIED_STATUSES:
            raise SendFailed(f"refused: {response.status_code} {code}: {message}", response.status_code, code)
        retry_after = _seconds(response.headers.get("Retry-After"))
        if retry_after is not None and retry_after > self.max_retry_after:
            raise SendFailed(
                f"{response.status_code} {code}: asked to wait {retry_after:.0f} s, "
                f"more than {self.max_retry_after:.0f} s",
                response.status_code,
                code,
            )
        wait = retry_after if retry_after is not None else self._backoff(attempt)
        return wait, f"{response.status_code} {code}"

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter: up to first_backoff * 2**(attempt - 1), at most max_backoff."""
        return random.uniform(0, min(self.max_backoff, self.first_backoff * 2 ** (attempt - 1)))


def _error_of(response: requests.Response) -> tuple[str, str]:
    """The collector's stable `code` and `message`, or what stands for them in an answer from elsewhere."""
    try:
        body = response.json()
        return str(body.get("code")), str(body.get("message"))
    except ValueError:
        return f"http_{response.status_code}", response.text[:200]


def _seconds(retry_after: str | None) -> float | None:
    """Retry-After in seconds (the collector sends whole seconds; an HTTP date is not expected)."""
    try:
        return max(0.0, float(retry_after)) if retry_after is not None else None
    except ValueError:
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Send a batch of example events to a collector.")
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the collector's base URL")
    parser.add_argument(
        "--write-key",
        default=os.environ.get("COLLECTOR_WRITE_KEY"),
        help="the write key, if the collector has keys (default: $COLLECTOR_WRITE_KEY, which `ps` does not show)",
    )
    parser.add_argument("--events", type=int, default=3, help="how many events in the batch")
    parser.add_argument("--event-type", default="example_event")
    parser.add_argument("--gzip", action="store_true", help="send the batch gzipped (Content-Encoding: gzip)")
    parser.add_argument("--max-attempts", type=int, default=6)
    parser.add_argument("--max-backoff", type=float, default=30, help="longest wait between attempts, in seconds")
    args = parser.parse_args(argv)

    client = CollectorClient(
        args.url, args.write_key, max_attempts=args.max_attempts, max_backoff=args.max_backoff, compress=args.gzip
    )
    events = [
        {"eventType": args.event_type, "eventId": str(uuid.uuid4()), "properties": {"n": n}}
        for n in range(args.events)
    ]
    try:
        ping_id = client.send(events, header={"client": "python_example"})
    except SendFailed as error:
        print(f"python_example: {error}", file=sys.stderr)
        return 1
    finally:
        client.close()
    print(json.dumps({"pingId": ping_id, "eventIds": [event["eventId"] for event in events]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
