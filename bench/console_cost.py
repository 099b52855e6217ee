"""What the console costs: `python3 bench/console_cost.py` (see `--help`).

1. Its series over a large store: a data directory of `--events` events (one
   million by default) over the last 7 days, in finished, compressed and open
   files of two workers; the first and a later answer of
   `/api/series?minutes=10080` from a running `collector console`.
2. The collector's single-event throughput with the console closed, and open
   with a page's polling against it (events every second, the overview every
   5 s, both series every 10 s), in interleaved rounds under wrk.

Prints the figures; nothing fails on a timing.

Needs the test extras (`requests`, to talk to the console), unlike
bench/run.py: `pip install -r requirements.txt -e '.[test]'` in the virtual
environment, as the README's test command does.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import orjson

try:
    import requests
except ModuleNotFoundError as missing:
    sys.exit(
        f"bench/console_cost.py needs the test extras ({missing.name} is missing): "
        "pip install -r requirements.txt -e '.[test]'"
    )

import procs
import wrkload

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from collector.ingest.eventtime import format_time  # noqa: E402  (after sys.path has the checkout)


def build_store(data_dir: Path, events: int, now: float) -> None:
    """`events` events over the last 7 days: 70% in compressed files, 29% finished, 1% open."""
    data_dir.mkdir(parents=True, exist_ok=True)
    span = 7 * 86400
    files = 40
    per_file = events // files
    for n in range(files):
        start = now - span + n * span / files
        step = (span / files) / per_file
        lines = b"".join(
            orjson.dumps({
                "eventType": ("page_view", "signup", "purchase", "search")[i % 4],
                "properties": {"path": "/pricing", "n": i},
                "eventId": f"{n}-{i}", "pingId": f"p-{n}-{i}",
                "receivedAt": format_time(start + i * step),
                "client": {"ip": "203.0.113.7", "userAgent": "bench"},
            }) + b"\n"
            for i in range(per_file)
        )
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(start))
        name = f"events-{stamp}.000000Z-bench-{1000 + n % 2}-{n:06d}"
        if n < files * 0.7:
            (data_dir / (name + ".jsonl.gz")).write_bytes(gzip.compress(lines, 1))
        elif n < files - 1:
            (data_dir / (name + ".jsonl")).write_bytes(lines)
        else:
            (data_dir / (name + ".jsonl.open")).write_bytes(lines)


@contextlib.contextmanager
def console(data_dir: Path, metrics_url: str, log: Path):
    port = procs.free_port()
    with open(log, "ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "collector", "console", "--bind", f"127.0.0.1:{port}", "--metrics-url", metrics_url],
            cwd=ROOT, env={**os.environ, "COLLECTOR_DATA_DIR": str(data_dir)}, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        procs.wait_until(lambda: _answers(url + "/static/console.css"), 60, "the console")
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.ConnectionError:
        return False


def timed_get(url: str) -> tuple[float, dict]:
    started = time.perf_counter()
    answer = requests.get(url, timeout=600)
    answer.raise_for_status()
    return time.perf_counter() - started, answer.json()


class Page(threading.Thread):
    """A browser tab's polling, as console.js does it."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.stop, self.requests = url, threading.Event(), 0

    def run(self) -> None:
        tick = 0
        while not self.stop.wait(1.0):
            now = int(time.time())  # the page's default range: the last hour
            paths = [f"/api/events?limit=200&from={now - 3600}"]
            if tick % 5 == 0:
                paths.append("/api/overview")
            if tick % 10 == 0:
                paths += [f"/api/series?from={now - 3600}&to={now}", "/api/series?minutes=10080"]
            for path in paths:
                requests.get(self.url + path, timeout=30)
                self.requests += 1
            tick += 1


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=6)
    args = parser.parse_args(argv)
    procs.ensure_apt_packages("wrk")
    tmp = Path(tempfile.mkdtemp(prefix="collector-console-bench-"))
    try:
        store = tmp / "store"
        started = time.perf_counter()
        build_store(store, args.events, time.time())
        print(f"store: {args.events:,} events in {sum(p.stat().st_size for p in store.iterdir()) / 2**20:.0f} MiB "
              f"of files, built in {time.perf_counter() - started:.0f} s", flush=True)
        with console(store, "http://127.0.0.1:9/metrics", tmp / "console-store.log") as url:
            first, answer = timed_get(url + "/api/series?minutes=10080")
            counted = sum(c for points in answer["series"].values() for _, c in points)
            later = [timed_get(url + "/api/series?minutes=10080")[0] for _ in range(5)]
            print(f"/api/series?minutes=10080: first {first:.2f} s ({counted:,} events counted), "
                  f"later {statistics.median(later) * 1000:.1f} ms (median of 5)", flush=True)

        env = {k: v for k, v in os.environ.items() if not k.startswith("COLLECTOR_")}
        env.update(COLLECTOR_BIND=f"127.0.0.1:{procs.free_port()}", COLLECTOR_DATA_DIR=str(tmp / "live"),
                   COLLECTOR_LOG_LEVEL="warning", COLLECTOR_RATE_LIMIT="100000000 per hour")
        server = procs.Gunicorn("app:app", env, tmp / "collector.log", os.cpu_count() or 1).start()
        try:
            nonce = iter(range(1, 10**6))
            closed, opened, polled = [], [], 0
            wrkload.run_wrk(server.url, 3, 1, 16, 2, next(nonce) << 20)
            for _ in range(args.rounds):
                # Closed: no console process at all. Open: running, with a page polling it.
                closed.append(wrkload.run_wrk(server.url, args.seconds, 1, 16, 2, next(nonce) << 20).rps)
                with console(tmp / "live", server.url + "/metrics", tmp / "console-live.log") as url:
                    page = Page(url)
                    page.start()
                    opened.append(wrkload.run_wrk(server.url, args.seconds, 1, 16, 2, next(nonce) << 20).rps)
                    page.stop.set()
                    page.join(30)
                    polled += page.requests
            closed_rps, opened_rps = statistics.median(closed), statistics.median(opened)
            print(f"collector single events: console closed {closed_rps:,.0f} req/s, open and polled "
                  f"{opened_rps:,.0f} req/s: {opened_rps / closed_rps:.2f}x ({args.rounds} interleaved rounds of "
                  f"{args.seconds:g} s; the page made {polled} requests)", flush=True)
        finally:
            server.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
