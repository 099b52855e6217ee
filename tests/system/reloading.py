"""Load through restarts, and the check that it lost nothing: shared by the reload and `collector serve` tests."""

from __future__ import annotations

import collections
import itertools
import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from tests.churn import post_on_new_connections
from tests.processes import wait_until


def assert_each_acknowledged_and_stored_once(service, outcomes, at_least):
    assert len(outcomes) >= at_least
    failed = collections.Counter(str(outcome) for _, outcome in outcomes if outcome != 201)
    assert not failed, f"{sum(failed.values())} of {len(outcomes)} requests failed: {failed.most_common(3)}"
    wait_until_stored_once(service, collections.Counter(event_id for event_id, _ in outcomes))


def wait_until_stored_once(service, acknowledged: collections.Counter) -> None:
    """Wait until the service's store holds each acknowledged eventId as many times as it was acknowledged."""
    wait_until(
        lambda: collections.Counter(event["eventId"] for event in service.events()) == acknowledged,
        30,
        "every acknowledged event on disk once",
    )


class Load:
    """post_on_new_connections in the background, until stopped."""

    def __init__(self, port: int, limit: int = 5000) -> None:
        self.outcomes: list = []
        self.stop_event = threading.Event()
        self.thread = threading.Thread(
            target=post_on_new_connections,
            kwargs=dict(port=port, count=limit, stop=self.stop_event, seconds=240, outcomes=self.outcomes),
        )
        self.thread.start()

    def wait_for_more(self, more: int = 40) -> None:
        target = len(self.outcomes) + more
        wait_until(lambda: len(self.outcomes) >= target, 120, f"{more} more answers")

    def stop(self) -> list:
        self.stop_event.set()
        self.thread.join(300)
        return self.outcomes


class TwoKindsLoad:
    """Client threads sending, in turn, a request of each of two kinds until stopped (a bounded loop): the
    reload tests of a file the master reads (a tracking plan, a suppressed-ids list) send one kind the reload
    changes nothing for and one it does.

    `send(number)` sends request `number` and gives back (its kind, its event, its outcome).
    """

    def __init__(
        self, send: Callable[[int], tuple[str, dict, Any]], limit: int = 3000, clients: int = 6, seconds: float = 240
    ) -> None:
        self.outcomes: list[tuple[str, dict, Any]] = []
        self.stop_event = threading.Event()
        numbers = itertools.count()
        lock = threading.Lock()
        deadline = time.monotonic() + seconds

        def client() -> None:
            while not self.stop_event.is_set() and time.monotonic() < deadline:
                with lock:
                    number = next(numbers)
                if number >= limit:
                    return
                sent = send(number)
                with lock:
                    self.outcomes.append(sent)

        self.threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
        for thread in self.threads:
            thread.start()

    def wait_for_more(self, more: int = 40) -> None:
        target = len(self.outcomes) + more
        wait_until(lambda: len(self.outcomes) >= target, 120, f"{more} more answers")

    def stop(self) -> list[tuple[str, dict, Any]]:
        self.stop_event.set()
        for thread in self.threads:
            thread.join(120)
        return self.outcomes


def hup_and_wait(service) -> None:
    """SIGHUP the master and wait until every worker is a new one."""
    before = set(service.worker_pids())
    os.kill(service.process.pid, signal.SIGHUP)
    wait_until(
        lambda: len(service.worker_pids()) == 2 and not before & set(service.worker_pids()), 60, "new workers"
    )
