"""Helpers of the fault-injection tests: a concurrent load that records what was
acknowledged, small real disks (tmpfs, a failing loop device) and the CLI."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from tests.servers import IN_CI, ROOT, read_events


class Load:
    """Client threads posting events with unique ids until stopped; bounded by `seconds`.

    Connection errors (a killed worker or master) are expected and counted as
    not acknowledged: only a 201 promises anything.
    """

    def __init__(self, url: str, clients: int = 6, events: int = 3, pad: int = 0, seconds: float = 20) -> None:
        self.url, self.events, self.pad, self.seconds = url, events, pad, seconds
        self.acknowledged: list[str] = []
        self.statuses: Counter = Counter()
        self.retry_after: set[str] = set()
        self.answered: list[tuple[float, float]] = []  # (sent, answered) of each response, time.monotonic()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._client, args=(n,), daemon=True) for n in range(clients)]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(self.seconds + 40)

    def longest_answer(self, start: float, end: float) -> float:
        """The longest a request sent from `start` to `end` (time.monotonic()) waited for its answer, in seconds.

        Measured, never asserted on: the figure the manual states (a busy machine's say nothing of the code).
        """
        with self._lock:
            return max((answered - sent for sent, answered in self.answered if start <= sent <= end), default=0.0)

    def wait_for(self, count: int, status: int = 201, timeout: float = 20) -> None:
        """Until `count` responses with `status` came back (no sleeping for a fixed time)."""
        from tests.servers import wait_until

        wait_until(lambda: self.statuses[status] >= count, timeout, f"{count} responses of {status}")

    def _client(self, number: int) -> None:
        deadline = threading.Event()
        timer = threading.Timer(self.seconds, deadline.set)
        timer.daemon = True
        timer.start()
        with requests.Session() as session:
            while not self._stop.is_set() and not deadline.is_set():
                ids = [f"c{number}-{uuid.uuid4()}" for _ in range(self.events)]
                body = {
                    "messageBody": [
                        {"eventType": "load", "eventId": i, "properties": {"pad": "x" * self.pad}} for i in ids
                    ]
                }
                sent = time.monotonic()
                try:
                    response = session.post(self.url + "/collect/event", json=body, timeout=10)
                except requests.RequestException:
                    with self._lock:
                        self.statuses["error"] += 1
                    continue
                with self._lock:
                    self.answered.append((sent, time.monotonic()))
                    self.statuses[response.status_code] += 1
                    if response.status_code == 201:
                        self.acknowledged.extend(ids)
                    elif "Retry-After" in response.headers:
                        self.retry_after.add(response.headers["Retry-After"])
        timer.cancel()


def assert_acknowledged_stored_once(acknowledged: list[str], *data_dirs: Path) -> list[dict]:
    """Every acknowledged event on disk exactly once; no event stored twice."""
    events = [event for data_dir in data_dirs for event in read_events(data_dir)]
    counts = Counter(event["eventId"] for event in events)
    duplicates = [event_id for event_id, n in counts.items() if n > 1]
    assert not duplicates, f"{len(duplicates)} events stored twice, e.g. {duplicates[:3]}"
    missing = set(acknowledged) - set(counts)
    assert not missing, f"{len(missing)} acknowledged events lost, e.g. {sorted(missing)[:3]}"
    return events


def collector_command(*args: str) -> subprocess.CompletedProcess:
    """The `collector` command, as an operator runs it."""
    return subprocess.run(
        [sys.executable, "-m", "collector", *args], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def require_root() -> None:
    """Mounting needs root, and a machine that lets root mount (not every container does)."""
    problem = "mounting a file system needs root" if os.geteuid() != 0 else _why_root_cannot_mount()
    if problem:
        if IN_CI:
            pytest.fail(problem + ": CI runs as root and must run every test")
        pytest.skip(problem)


@functools.cache
def _why_root_cannot_mount() -> str | None:
    with tempfile.TemporaryDirectory() as probe:
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", probe], capture_output=True, text=True, timeout=30
        )
        if mounted.returncode != 0:
            return f"this machine does not let root mount a tmpfs ({mounted.stderr.strip()})"
        _unmount(Path(probe))
    loop = subprocess.run(["losetup", "--find"], capture_output=True, text=True, timeout=30)
    if loop.returncode != 0:
        return f"this machine has no free loop device ({loop.stderr.strip()})"
    return None


def _run(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True, timeout=30)


def _unmount(path: Path) -> None:
    # Lazy as a last resort: a process still holding a file must not leave the mount behind.
    if subprocess.run(["umount", str(path)], capture_output=True).returncode != 0:
        subprocess.run(["umount", "--lazy", str(path)], capture_output=True)


@contextmanager
def tmpfs(path: Path, size: str):
    """A real, tiny file system at `path`, unmounted at the end whatever happens."""
    require_root()
    path.mkdir(parents=True, exist_ok=True)
    _run("mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path))
    try:
        yield path
    finally:
        _unmount(path)


@contextmanager
def disk_that_fails_writeback(path: Path, work: Path):
    """ext4 at `path` on a loop device whose backing store (a 3 MB tmpfs) runs out.

    Writes land in the page cache and succeed; writing them back to the device
    fails, so `fsync` returns EIO, as on a failing disk.
    """
    with tmpfs(work / "backing", "3m") as backing:
        image = backing / "disk.img"
        _run("truncate", "-s", "16M", str(image))
        _run("mkfs.ext4", "-q", "-F", str(image))
        device = subprocess.run(
            ["losetup", "--find", "--show", str(image)], check=True, capture_output=True, text=True
        ).stdout.strip()
        try:
            path.mkdir(parents=True, exist_ok=True)
            _run("mount", device, str(path))
            try:
                yield path
            finally:
                _unmount(path)
        finally:
            subprocess.run(["losetup", "--detach", device], capture_output=True)
