"""Rejected requests by code, and plan violations by type and path, over the last hour, from the collector's /metrics.

The console is a process of its own: it asks the collector for its metrics
(`collector_rejected_requests_total{code}`, added up over every worker by
prometheus_client's multiprocess mode: every error answer, the rate limit's
429 refusals among them; and `collector_plan_violations_total{event_type,
path}`, the events stored flagged by the tracking plan) every SAMPLE_SECONDS
and keeps an hour of samples. The count of a code over the last hour is its
latest value less its oldest within the hour; a counter that went down (the
collector restarted) counts from zero again.
"""

from __future__ import annotations

import http.client
import logging
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from itertools import pairwise
from typing import Any
from urllib.parse import urlsplit

from prometheus_client.parser import text_string_to_metric_families

logger = logging.getLogger(__name__)

SAMPLE_SECONDS = 15.0
# When the page asks, a sample older than this is taken again first.
FRESH_SECONDS = 5.0
WINDOW_SECONDS = 3600.0
METRIC = "collector_rejected_requests"
PLAN_METRIC = "collector_plan_violations"


def metrics_url(bind: str) -> str:
    """Where the collector bound by COLLECTOR_BIND answers /metrics, seen from the same host."""
    if bind.startswith("unix:"):
        return "unix:" + bind[len("unix:") :].removeprefix("//") + ":/metrics"
    host, _, port = bind.rpartition(":")
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "[::]":
        host = "[::1]"
    return f"http://{host}:{port}/metrics"


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


def fetch(url: str, timeout: float = 5.0) -> str:
    """The text of `url` (http://host:port/path, or unix:/socket/path:/path).

    :raises OSError: the collector did not answer, or not with 200.
    """
    if url.startswith("unix:"):
        path, _, target = url[len("unix:") :].rpartition(":")
        connection: http.client.HTTPConnection = _UnixConnection(path, timeout)
    else:
        parts = urlsplit(url)
        if parts.hostname is None:  # e.g. --metrics-url without its http://: said, as a collector not answering is
            raise OSError("it names no host: http://host:port/path")
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        target = parts.path or "/"
    try:
        connection.request("GET", target)
        answer = connection.getresponse()
        body = answer.read()
    except (http.client.HTTPException, ValueError) as error:
        raise OSError(str(error)) from error
    finally:
        connection.close()
    if answer.status != 200:
        raise OSError(f"{url} answered {answer.status}")
    return body.decode("utf-8", "replace")


def rejected_by_code(text: str) -> dict[str, float]:
    return {key[1]: value for key, value in counts_of(text).items() if key[0] == METRIC}


def counts_of(text: str) -> dict[tuple[str, ...], float]:
    """The counters the console shows: (METRIC, code) and (PLAN_METRIC, event_type, path) -> value."""
    counts: dict[tuple[str, ...], float] = {}
    for family in text_string_to_metric_families(text):
        if family.name not in (METRIC, PLAN_METRIC):
            continue
        for sample in family.samples:
            if sample.name != family.name + "_total":
                continue
            if family.name == METRIC:
                key: tuple[str, ...] = (METRIC, sample.labels.get("code", ""))
            else:
                key = (PLAN_METRIC, sample.labels.get("event_type", ""), sample.labels.get("path", ""))
            counts[key] = counts.get(key, 0.0) + sample.value
    return counts


class Rejections:
    """An hour of samples of the collector's rejected-request counters, by code, and of its plan violations."""

    def __init__(self, url: str, clock: Callable[[], float] = time.time) -> None:
        self.url = url
        self._clock = clock
        self._samples: deque[tuple[float, dict[tuple[str, ...], float]]] = deque()
        self._lock = threading.Lock()
        self.problem: str | None = "not asked yet"
        self._last_try = float("-inf")

    def fresh(self) -> None:
        """Take a sample first if the last one is older than FRESH_SECONDS (the page is looking)."""
        if time.monotonic() - self._last_try >= FRESH_SECONDS:
            self.sample()

    def sample(self) -> None:
        self._last_try = time.monotonic()
        try:
            counts = counts_of(fetch(self.url))
        except OSError as error:
            if self.problem is None:
                logger.warning("the collector's metrics at %s do not answer (%s)", self.url, error)
            self.problem = f"the collector's metrics at {self.url} do not answer ({error})"
            return
        now = self._clock()
        with self._lock:
            self._samples.append((now, counts))
            while self._samples and self._samples[0][0] < now - WINDOW_SECONDS:
                self._samples.popleft()
        self.problem = None

    def last_hour(self) -> dict[str, int]:
        """Rejected requests per code since the oldest sample of the hour (so far, if the console is younger)."""
        totals = self._totals()
        return {key[1]: int(count) for key, count in sorted(totals.items()) if count and key[0] == METRIC}

    def plan_violations_last_hour(self) -> list[list[Any]]:
        """[eventType, path, events] flagged by the plan over the same hour, the most first."""
        found = [[*key[1:], int(count)] for key, count in self._totals().items() if count and key[0] == PLAN_METRIC]
        return sorted(found, key=lambda row: (-row[2], row[0], row[1]))

    def _totals(self) -> dict[tuple[str, ...], float]:
        with self._lock:
            samples = list(self._samples)
        totals: dict[tuple[str, ...], float] = {}
        for (_, before), (_, after) in pairwise(samples):
            for key, value in after.items():
                previous = before.get(key, 0.0)
                totals[key] = totals.get(key, 0.0) + (value - previous if value >= previous else value)
        return totals

    def start(self, every: float = SAMPLE_SECONDS) -> threading.Thread:
        def run() -> None:
            while True:
                self.sample()
                time.sleep(every)

        thread = threading.Thread(target=run, name="console-metrics", daemon=True)
        thread.start()
        return thread
