"""The collector's benchmark: `python3 bench/run.py` (see `--help` and docs/benchmark.md).

Starts memcached and, for each shape (deployed: 2 workers + memcached limits;
default: the Quick start's, sqlite:// limits and a worker per core), the collector, the naive service and a bare-WSGI
baseline under the same gunicorn.conf.py, drives them with wrk, and prints
every figure also as a ratio to the baseline measured in the same run. Writes
bench/RESULTS.md on a full run. Everything started is stopped, and the
temporary data directory removed, whatever happens.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import procs
import report
import wrkload

HIGH_LIMIT = "100000000 per hour"  # never reached: no 429 pollutes (a), (b), (d)
TINY_LIMIT = "1 per hour"  # reached by the first request: the 429 path
FSYNC_MODES = ("always", "interval", "never")
SERVICE_APP = "app:app"
WRITE_KEY = "bench-write-key-0123456789abcdef"
# Each optional feature on, against all of them off, single events (issue: what each one costs).
# label -> (the service's settings, wrk's extra environment: request headers)
FEATURES = {
    "all features off": ({}, {}),
    "CORS, allowed origin": (
        {"COLLECTOR_CORS_ORIGINS": "https://shop.example.com"},
        {"BENCH_HEADERS": "Origin: https://shop.example.com"},
    ),
    "write key": ({"COLLECTOR_API_KEYS": WRITE_KEY}, {"BENCH_HEADERS": f"X-Collector-Key: {WRITE_KEY}"}),
    "client address hashed": ({"COLLECTOR_CLIENT_IP": "hash"}, {}),
    "dedupe=event": ({"COLLECTOR_DEDUPE": "event"}, {}),
    "Idempotency-Key": ({}, {"BENCH_IDEMPOTENCY": "1"}),
}
# /v1/batch beside /collect/event: the same server, the same events as Segment messages
# (bench/wrk/events.lua), 100 a batch, in the same interleaved rounds.
SEGMENT = "/v1/batch"
SEGMENT_WRK_ENV = {"BENCH_API": "segment"}
SEGMENT_RESULT = "batch, Segment /v1/batch"
BASELINE_APP = "bench.baseline_app:app"
# The naive reference (bench/naive_app.py), run as its team would: gunicorn's
# sync workers, two of them, no access log.
NAIVE_APP = "bench.naive_app:app"
NAIVE_ARGS = ("--worker-class", "sync", "--workers", "2")
# (g) worker models, deployed shape, single events: label -> (settings, gunicorn options).
WORKER_MODELS = {
    "shipped: gthread, 4 threads, one shared socket": ({}, ()),
    "gthread, 1 thread": ({"COLLECTOR_THREADS": "1"}, ()),
    "gthread, 2 threads": ({"COLLECTOR_THREADS": "2"}, ()),
    "3 workers on 2 cores": ({"COLLECTOR_WORKERS": "3"}, ()),
    "sync workers (no keep-alive)": ({}, ("--worker-class", "sync")),
    # gunicorn's default bound: a worker may take a whole burst of keep-alive
    # connections (see bench/reload_options.py for the spread).
    "worker_connections 1000 (gunicorn's default)": ({}, ("--worker-connections", "1000")),
}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="1s warm-up, 1 round of 3s, no RSS run, no profile, no RESULTS.md")
    parser.add_argument("--warmup", type=float, help="warm-up seconds per server (default 5)")
    parser.add_argument("--rounds", type=int, help="measured rounds per scenario (default 5)")
    parser.add_argument("--seconds", type=float, help="seconds per round (default 6)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--wrk-threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--shapes", default="deployed,default", help="comma-separated: deployed,default")
    parser.add_argument("--no-fsync", action="store_true", help="skip (d), the COLLECTOR_FSYNC modes")
    parser.add_argument("--no-models", action="store_true",
                        help="skip (g), the worker models (threads, sync workers, a shared socket)")
    parser.add_argument("--no-features", action="store_true",
                        help="skip (f), each optional feature (CORS, keys, privacy, dedupe, idempotency) on")
    parser.add_argument("--segment-only", action="store_true",
                        help="only /v1/batch beside /collect/event batches of 100, on one collector per shape")
    parser.add_argument("--rss-only", action="store_true",
                        help="only (e), worker memory under load (with --results FILE for its report)")
    parser.add_argument("--rss-shapes", default="deployed", help="shapes for (e) (default: deployed)")
    parser.add_argument("--rss-seconds", type=float, default=600,
                        help="seconds of load for (e), RSS flatness (default 600: the issue's 10 minutes)")
    parser.add_argument("--rss-events", type=int, default=1_000_000,
                        help="events for (e), RSS flatness (default 1,000,000; 0 skips it)")
    parser.add_argument("--profile", action=argparse.BooleanOptionalAction, default=None,
                        help="py-spy profile of the workers (default: on unless --quick)")
    parser.add_argument("--profile-seconds", type=float, default=20)
    parser.add_argument("--results", type=Path,
                        help="write the Markdown report here (default bench/RESULTS.md unless --quick)")
    args = parser.parse_args(argv)
    quick = args.quick
    args.warmup = args.warmup if args.warmup is not None else (1 if quick else 5)
    # Five rounds: the issue asks for the spread of the connections over the
    # workers to hold in at least five runs, not one lucky one.
    args.rounds = args.rounds or (1 if quick else 5)
    args.seconds = args.seconds or (3 if quick else 6)
    args.profile = (not quick) if args.profile is None else args.profile
    if quick and "--rss-events" not in " ".join(argv):
        args.rss_events = 0
    if args.results is None and not quick and not args.segment_only:  # a partial run never replaces RESULTS.md
        args.results = Path(__file__).resolve().parent / "RESULTS.md"
    args.shapes = [s.strip() for s in args.shapes.split(",") if s.strip()]
    return args


class Bench:
    """One run: its temp dir, its memcached, the servers it starts, its results."""

    def __init__(self, args: argparse.Namespace, tmp: Path, stack: contextlib.ExitStack) -> None:
        self.args = args
        self.tmp = tmp
        self.stack = stack
        self.memcached = None  # started with the first deployed-shape server
        self._names = itertools.count(1)
        base = random.getrandbits(20) << 10
        self.nonce = itertools.count(base).__next__  # unique eventIds across wrk runs
        self.results: dict[tuple[str, str], wrkload.Measurement] = {}
        self.rss_runs: dict[str, list[tuple[int, list[float]]]] = {}
        self.profiles: dict[str, object] = {}

    def shape_settings(self, shape: str) -> dict[str, str]:
        if shape == "deployed":
            if self.memcached is None:
                self.memcached = procs.start_memcached()
                self.stack.callback(self.memcached.stop)
            return {"COLLECTOR_WORKERS": "2", "COLLECTOR_RATE_LIMIT_STORAGE": self.memcached.uri}
        if shape == "default":
            return {}  # the Quick start's: sqlite:// limits, a worker per core
        raise SystemExit(f"unknown shape {shape!r}: deployed or default")

    def start(self, shape: str, app: str, args: tuple[str, ...] = (), **settings: str) -> procs.Gunicorn:
        """A gunicorn with a fresh data dir; stopped (and its data removed) at the end.

        On a fixed port, as deployed behind nginx: with several workers each
        then listens on a socket of its own (see gunicorn.conf.py).
        """
        kind = {BASELINE_APP: "baseline", NAIVE_APP: "naive"}.get(app, "collector")
        name = f"{next(self._names):02d}-{shape}-{kind}"
        data_dir = self.tmp / f"data-{name}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("COLLECTOR_")}
        env.update(
            COLLECTOR_BIND=f"127.0.0.1:{procs.free_port()}",
            COLLECTOR_DATA_DIR=str(data_dir),
            COLLECTOR_LOG_LEVEL="warning",
            COLLECTOR_RATE_LIMIT=HIGH_LIMIT,
            **self.shape_settings(shape),
        )
        env.update(settings)
        if "--workers" in args:
            workers = int(args[args.index("--workers") + 1])
        else:
            workers = int(env.get("COLLECTOR_WORKERS", os.cpu_count() or 1))
        server = procs.Gunicorn(app, env, self.tmp / f"{name}.log", workers, args)
        self.stack.callback(shutil.rmtree, data_dir, True)
        self.stack.callback(server.stop)
        return server.start()

    def measure(self, targets: dict, events: int, expect_2xx: bool = True, servers: dict | None = None):
        """`targets`: label -> server, or label -> (url, wrk environment) with `servers` giving the servers."""
        args = self.args
        servers = servers or targets
        found = wrkload.measure_interleaved(
            {label: target if isinstance(target, tuple) else target.url for label, target in targets.items()},
            events=events, warmup=args.warmup, rounds=args.rounds, seconds=args.seconds,
            connections=args.connections, threads=args.wrk_threads, nonce=self.nonce,
            expect_2xx=expect_2xx, workers={label: servers[label].worker_pids for label in targets},
        )
        for label, measurement in found.items():
            measurement.rss_mb = servers[label].worker_rss_mb()
        return found

    # -- scenarios ------------------------------------------------------------

    def run_shape(self, shape: str) -> None:
        """(a) single events and (b) 100-event batches against the baseline and the naive service, then (c) 429."""
        baseline = self.start(shape, BASELINE_APP)
        naive = self.start(shape, NAIVE_APP, NAIVE_ARGS, COLLECTOR_ACCESS_LOG="off")
        collector = self.start(shape, SERVICE_APP)
        # Behind nginx, which logs every request, docs/deploying.md turns gunicorn's access log off.
        quiet = self.start(shape, SERVICE_APP, COLLECTOR_ACCESS_LOG="off")
        targets = {"baseline": baseline, "naive": naive, "collector": collector, "quiet": quiet}
        if shape == "default":
            # What the default was before sqlite://: limits in one process, so one worker.
            targets["memory"] = self.start(shape, SERVICE_APP, COLLECTOR_WORKERS="1", COLLECTOR_RATE_LIMIT_STORAGE="memory://")
        for events, kind in ((1, "single"), (100, "batch")):
            measured = dict(targets)
            if kind == "batch":
                measured[SEGMENT] = (collector.url, SEGMENT_WRK_ENV)
            log(f"[{shape}] {kind}: {', '.join(measured)}, interleaved")
            found = self.measure(measured, events, servers={**targets, SEGMENT: collector})
            if SEGMENT in found:
                self.results[(shape, SEGMENT_RESULT)] = found[SEGMENT]
            if "memory" in found:
                self.results[(shape, f"{kind}, memory:// (1 worker)")] = found["memory"]
            self.results[(shape, f"baseline {kind}")] = found["baseline"]
            self.results[(shape, f"naive service {kind}")] = found["naive"]
            self.results[(shape, kind)] = found["collector"]
            self.results[(shape, f"{kind}, access log off")] = found["quiet"]
        for server in targets.values():
            server.stop()
        self.results[(shape, "429")] = self.measure_429(shape)

    def run_segment(self, shape: str) -> None:
        """/v1/batch beside /collect/event, 100 events a request, on one collector, interleaved (--segment-only)."""
        collector = self.start(shape, SERVICE_APP)
        log(f"[{shape}] batch: /collect/event, {SEGMENT}, interleaved")
        targets = {"collector": (collector.url, {}), SEGMENT: (collector.url, SEGMENT_WRK_ENV)}
        found = self.measure(targets, 100, servers={"collector": collector, SEGMENT: collector})
        self.results[(shape, "batch")] = found["collector"]
        self.results[(shape, SEGMENT_RESULT)] = found[SEGMENT]
        collector.stop()

    def measure_429(self, shape: str) -> wrkload.Measurement:
        log(f"[{shape}] 429: a client over its limit ({TINY_LIMIT})")
        server = self.start(shape, SERVICE_APP, COLLECTOR_RATE_LIMIT=TINY_LIMIT)
        body = b'{"messageBody":[{"eventType":"warm"}]}'
        procs.post_once(server.url, body)
        status, _ = procs.post_once(server.url, body)
        if status != 429:
            raise RuntimeError(f"expected 429 after the limit was used up, got {status}")
        found = self.measure({"collector": server}, 1, expect_2xx=False)["collector"]
        server.stop()
        return found

    def run_fsync(self) -> None:
        """(d) each COLLECTOR_FSYNC mode in the deployed shape, interleaved."""
        servers = {mode: self.start("deployed", SERVICE_APP, COLLECTOR_FSYNC=mode) for mode in FSYNC_MODES}
        for events, kind in ((1, "single"), (100, "batch")):
            log(f"[deployed] COLLECTOR_FSYNC=always|interval|never: {kind}, interleaved")
            for mode, measurement in self.measure(servers, events).items():
                self.results[("deployed", f"fsync={mode} {kind}")] = measurement
        for server in servers.values():
            server.stop()

    def run_features(self, shape: str) -> None:
        """(f) single events with each optional feature on, interleaved with all of them off."""
        servers = {}
        for label, (settings, wrk_env) in FEATURES.items():
            servers[label] = (self.start(shape, SERVICE_APP, **settings), wrk_env)
        log(f"[{shape}] features: {', '.join(FEATURES)}, interleaved")
        found = self.measure({label: (server.url, wrk_env) for label, (server, wrk_env) in servers.items()}, 1,
                             servers={label: server for label, (server, _) in servers.items()})
        for label, measurement in found.items():
            self.results[(shape, f"single, {label}")] = measurement
        for server, _ in servers.values():
            server.stop()

    def run_worker_models(self) -> None:
        """(g) the worker model: threads per worker, workers per core, sync workers, one shared socket."""
        servers = {label: self.start("deployed", SERVICE_APP, args, **settings)
                   for label, (settings, args) in WORKER_MODELS.items()}
        log(f"[deployed] worker models: {', '.join(WORKER_MODELS)}, interleaved")
        for label, measurement in self.measure(servers, 1).items():
            self.results[("deployed", f"single, {label}")] = measurement
        for server in servers.values():
            server.stop()

    def run_rss(self, shape: str) -> None:
        """(e) worker RSS after warm-up, then every minute of `rss_seconds` of 100-event batches.

        At least `rss_events` events in all.

        With COLLECTOR_RETENTION_BYTES, as a long-running VM would have it, so
        that the run's disk use stays bounded and deletion runs too.
        """
        target, seconds = self.args.rss_events, self.args.rss_seconds
        log(f"[{shape}] RSS: {seconds:g} s and at least {target:,} events in 100-event batches")
        server = self.start(shape, SERVICE_APP, COLLECTOR_RETENTION_BYTES=str(1 << 30))
        url, threads, conns = server.url, self.args.wrk_threads, self.args.connections
        wrkload.run_wrk(url, 10 if not self.args.quick else 2, 100, conns, threads, self.nonce())
        trajectory = [(0, server.worker_rss_mb())]
        done, started = 0, time.monotonic()
        next_sample = started + 60
        while (done < target or time.monotonic() - started < seconds) and time.monotonic() - started < seconds + 900:
            found = wrkload.run_wrk(url, 10, 100, conns, threads, self.nonce())
            done += (found.requests - found.non_2xx) * 100
            if time.monotonic() >= next_sample:
                trajectory.append((done, server.worker_rss_mb()))
                next_sample += 60
        if trajectory[-1][0] != done:
            trajectory.append((done, server.worker_rss_mb()))
        self.rss_seconds_run = time.monotonic() - started
        self.rss_runs[shape] = trajectory
        server.stop()

    def run_profiles(self) -> None:
        import profiling

        profiling.ensure_py_spy()
        plan = (("deployed", 1, "single", True), ("deployed", 100, "batch", True),
                ("default", 1, "single", True), ("default", 100, "batch", True),
                ("deployed", 1, "single", False))
        for shape, events, kind, gil in plan:
            if shape not in self.args.shapes:
                continue
            title = f"{shape} {kind}" + ("" if gil else " (wall clock: threads waiting in syscalls count)")
            log(f"[{shape}] py-spy profile, {kind} events, {'--gil' if gil else 'wall clock'}")
            server = self.start(shape, SERVICE_APP)
            wrkload.run_wrk(server.url, 3, events, self.args.connections, self.args.wrk_threads, self.nonce())
            self.profiles[title] = profiling.record(
                server, self.tmp / f"profile-{shape}-{kind}-{gil}.txt", self.args.profile_seconds,
                lambda s, server=server, events=events: wrkload.run_wrk(
                    server.url, s, events, self.args.connections, self.args.wrk_threads, self.nonce()
                ),
                gil=gil,
            )
            server.stop()


def log(message: str) -> None:
    print(time.strftime("%H:%M:%S"), message, flush=True)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    procs.ensure_apt_packages("wrk", "memcached")
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        tmp = Path(tempfile.mkdtemp(prefix="collector-bench-"))
        stack.callback(shutil.rmtree, tmp, True)
        bench = Bench(args, tmp, stack)
        for shape in args.shapes if not (args.rss_only or args.segment_only) else ():
            bench.run_shape(shape)
        for shape in args.shapes if args.segment_only else ():
            bench.run_segment(shape)
        if args.rss_only or args.segment_only:
            args.no_fsync = args.no_models = args.no_features = True
            args.profile = False
        if args.segment_only:
            args.rss_events = 0
        if not args.no_fsync and "deployed" in args.shapes:
            bench.run_fsync()
        if not args.no_models and "deployed" in args.shapes:
            bench.run_worker_models()
        if not args.no_features:
            for shape in args.shapes:
                bench.run_features(shape)
        if args.rss_events:
            for shape in args.rss_shapes.split(","):
                if shape.strip() in args.shapes:
                    bench.run_rss(shape.strip())
        if args.profile:
            bench.run_profiles()
        text = report.render(args, bench, argv, time.monotonic() - started)
    print(text)
    if args.results:
        args.results.write_text(text)
        log(f"wrote {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
