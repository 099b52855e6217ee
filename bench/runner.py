"""One benchmark run's resources: its temp dir, its memcached, the servers it starts, its results.

The scenarios (scenarios.py) start servers and measure them through a
`Bench`; everything it starts is stopped, and every data directory removed,
when the run's ExitStack closes, whatever happens.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import random
import shutil
import time
from pathlib import Path

import procs
import wrkload
from beforetree import BeforeTree

HIGH_LIMIT = "100000000 per hour"  # never reached: no 429 pollutes (a), (b), (d)
SERVICE_APP = "app:app"
BASELINE_APP = "bench.baseline_app:app"
NAIVE_APP = "bench.naive_app:app"


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
        self.before: BeforeTree | None = None  # --before REF: its collector runs beside this tree's

    def shape_settings(self, shape: str) -> dict[str, str]:
        if shape == "deployed":
            if self.memcached is None:
                self.memcached = procs.start_memcached()
                self.stack.callback(self.memcached.stop)
            return {"COLLECTOR_WORKERS": "2", "COLLECTOR_RATE_LIMIT_STORAGE": self.memcached.uri}
        if shape == "default":
            return {}  # the Quick start's: sqlite:// limits, a worker per core
        raise SystemExit(f"unknown shape {shape!r}: deployed or default")

    def start(
        self, shape: str, app: str, args: tuple[str, ...] = (), tree: BeforeTree | None = None, **settings: str
    ) -> procs.Gunicorn:
        """A gunicorn with a fresh data dir; stopped (and its data removed) at the end.

        On a fixed port, as deployed behind nginx: with several workers each
        then listens on a socket of its own (see gunicorn.conf.py). With
        `tree`, that tree's gunicorn.conf.py and `app`, under the same settings.
        """
        kind = "before" if tree else {BASELINE_APP: "baseline", NAIVE_APP: "naive"}.get(app, "collector")
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
        started_as = {} if tree is None else {"command": tree.gunicorn_command(app, args), "cwd": tree.path}
        env = env if tree is None else tree.environ(env)
        server = procs.Gunicorn(app, env, self.tmp / f"{name}.log", workers, args, **started_as)
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


def log(message: str) -> None:
    print(time.strftime("%H:%M:%S"), message, flush=True)
