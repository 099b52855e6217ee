"""The benchmark's scenarios, each a function of the run's `Bench`: what is started, and measured beside what.

(a) single events and (b) 100-event batches against the bare WSGI baseline
and the naive service, (c) the 429 path, (d) each COLLECTOR_FSYNC mode, (e)
worker RSS under a long load, (f) each optional feature on (and bots told
apart and a tracking plan, on single events and batches), (g) the worker models, and py-spy
profiles. Results go into `bench.results` (shape, name) -> Measurement, which
report.py renders.
"""

from __future__ import annotations

import time
from pathlib import Path

import procs
import wrkload
from runner import BASELINE_APP, NAIVE_APP, SERVICE_APP, Bench, log

TINY_LIMIT = "1 per hour"  # reached by the first request: the 429 path
FSYNC_MODES = ("always", "interval", "never")
WRITE_KEY = "bench-write-key-0123456789abcdef"
# Each optional feature on, against all of them off, single events (issue: what each one costs).
# label -> (the service's settings, wrk's extra environment: request headers)
# Bots are told apart by default (COLLECTOR_BOTS=flag); these rows turn it off,
# so that each measures its own feature alone (bots have their rows, DATA_QUALITY).
BOTS_OFF = {"COLLECTOR_BOTS": "off"}
FEATURES = {
    "all features off": (BOTS_OFF, {}),
    "CORS, allowed origin": (
        {**BOTS_OFF, "COLLECTOR_CORS_ORIGINS": "https://shop.example.com"},
        {"BENCH_HEADERS": "Origin: https://shop.example.com"},
    ),
    "write key": ({**BOTS_OFF, "COLLECTOR_API_KEYS": WRITE_KEY}, {"BENCH_HEADERS": f"X-Collector-Key: {WRITE_KEY}"}),
    "client address hashed": ({**BOTS_OFF, "COLLECTOR_CLIENT_IP": "hash"}, {}),
    "dedupe=event": ({**BOTS_OFF, "COLLECTOR_DEDUPE": "event"}, {}),
    "Idempotency-Key": (BOTS_OFF, {"BENCH_IDEMPOTENCY": "1"}),
}
# (f) data quality: bots told apart (COLLECTOR_BOTS=flag, the default) and a
# 10-type tracking plan (bench/plans/ten-types.json, which every event of
# bench/wrk/events.lua meets), each against both off, with the same User-Agent
# on every request (wrk sends none of its own), on single events and 100-event
# batches in the same interleaved rounds: a person's agent is a cached look-up
# and a per-event webdriver check, a crawler's events are each stored with
# client.bot, and the plan is one compiled schema check per event.
BROWSER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
CRAWLER_AGENT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
TEN_TYPE_PLAN = str(Path(__file__).resolve().parent / "plans" / "ten-types.json")
PLAN_ON = {"COLLECTOR_TRACKING_PLAN": TEN_TYPE_PLAN}
AS_A_BROWSER = {"BENCH_HEADERS": f"User-Agent: {BROWSER_AGENT}"}
BOTS_OFF_LABEL = "bots off, no plan, a browser's User-Agent"
DATA_QUALITY = {
    BOTS_OFF_LABEL: (BOTS_OFF, AS_A_BROWSER),
    "bots flagged (default), a browser's User-Agent": ({}, AS_A_BROWSER),
    "bots flagged (default), a crawler's User-Agent": ({}, {"BENCH_HEADERS": f"User-Agent: {CRAWLER_AGENT}"}),
    "10-type tracking plan (flag), bots off": ({**BOTS_OFF, **PLAN_ON}, AS_A_BROWSER),
    "10-type tracking plan (refuse), bots off": (
        {**BOTS_OFF, **PLAN_ON, "COLLECTOR_TRACKING_PLAN_MODE": "refuse"}, AS_A_BROWSER,
    ),
    "10-type tracking plan and bots flagged": (PLAN_ON, AS_A_BROWSER),
}
# /v1/batch beside /collect/event: the same server, the same events as Segment messages
# (bench/wrk/events.lua), 100 a batch, in the same interleaved rounds.
SEGMENT = "/v1/batch"
SEGMENT_WRK_ENV = {"BENCH_API": "segment"}
SEGMENT_RESULT = "batch, Segment /v1/batch"
# The naive reference (bench/naive_app.py), run as its team would: gunicorn's
# sync workers, two of them, no access log.
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


def run_shape(bench: Bench, shape: str) -> None:
    """(a) single events and (b) 100-event batches against the baseline and the naive service, then (c) 429.

    With --before, the earlier commit's collector is one more server in (a) and (b)'s rounds.
    """
    baseline = bench.start(shape, BASELINE_APP)
    naive = bench.start(shape, NAIVE_APP, NAIVE_ARGS, COLLECTOR_ACCESS_LOG="off")
    collector = bench.start(shape, SERVICE_APP)
    # Behind nginx, which logs every request, docs/deploying.md turns gunicorn's access log off.
    quiet = bench.start(shape, SERVICE_APP, COLLECTOR_ACCESS_LOG="off")
    targets = {"baseline": baseline, "naive": naive, "collector": collector, "quiet": quiet}
    if shape == "default":
        # What the default was before sqlite://: limits in one process, so one worker.
        targets["memory"] = bench.start(shape, SERVICE_APP, COLLECTOR_WORKERS="1", COLLECTOR_RATE_LIMIT_STORAGE="memory://")
    if bench.before:
        targets["before"] = bench.start(shape, SERVICE_APP, tree=bench.before)
    for events, kind in ((1, "single"), (100, "batch")):
        measured = dict(targets)
        if kind == "batch":
            measured[SEGMENT] = (collector.url, SEGMENT_WRK_ENV)
        log(f"[{shape}] {kind}: {', '.join(measured)}, interleaved")
        found = bench.measure(measured, events, servers={**targets, SEGMENT: collector})
        if SEGMENT in found:
            bench.results[(shape, SEGMENT_RESULT)] = found[SEGMENT]
        if "memory" in found:
            bench.results[(shape, f"{kind}, memory:// (1 worker)")] = found["memory"]
        bench.results[(shape, f"baseline {kind}")] = found["baseline"]
        bench.results[(shape, f"naive service {kind}")] = found["naive"]
        bench.results[(shape, kind)] = found["collector"]
        bench.results[(shape, f"{kind}, access log off")] = found["quiet"]
        if "before" in found:
            bench.results[(shape, f"{kind}, {bench.before.label}")] = found["before"]
    for server in targets.values():
        server.stop()
    bench.results[(shape, "429")] = measure_429(bench, shape)


def run_segment(bench: Bench, shape: str) -> None:
    """/v1/batch beside /collect/event, 100 events a request, on one collector, interleaved (--segment-only)."""
    collector = bench.start(shape, SERVICE_APP)
    log(f"[{shape}] batch: /collect/event, {SEGMENT}, interleaved")
    targets = {"collector": (collector.url, {}), SEGMENT: (collector.url, SEGMENT_WRK_ENV)}
    found = bench.measure(targets, 100, servers={"collector": collector, SEGMENT: collector})
    bench.results[(shape, "batch")] = found["collector"]
    bench.results[(shape, SEGMENT_RESULT)] = found[SEGMENT]
    collector.stop()


def measure_429(bench: Bench, shape: str) -> wrkload.Measurement:
    log(f"[{shape}] 429: a client over its limit ({TINY_LIMIT})")
    server = bench.start(shape, SERVICE_APP, COLLECTOR_RATE_LIMIT=TINY_LIMIT)
    body = b'{"messageBody":[{"eventType":"warm"}]}'
    procs.post_once(server.url, body)
    status, _ = procs.post_once(server.url, body)
    if status != 429:
        raise RuntimeError(f"expected 429 after the limit was used up, got {status}")
    found = bench.measure({"collector": server}, 1, expect_2xx=False)["collector"]
    server.stop()
    return found


def run_fsync(bench: Bench) -> None:
    """(d) each COLLECTOR_FSYNC mode in the deployed shape, interleaved."""
    servers = {mode: bench.start("deployed", SERVICE_APP, COLLECTOR_FSYNC=mode) for mode in FSYNC_MODES}
    for events, kind in ((1, "single"), (100, "batch")):
        log(f"[deployed] COLLECTOR_FSYNC=always|interval|never: {kind}, interleaved")
        for mode, measurement in bench.measure(servers, events).items():
            bench.results[("deployed", f"fsync={mode} {kind}")] = measurement
    for server in servers.values():
        server.stop()


def run_features(bench: Bench, shape: str) -> None:
    """(f) single events with each optional feature on, interleaved with all of them off."""
    servers = {}
    for label, (settings, wrk_env) in FEATURES.items():
        servers[label] = (bench.start(shape, SERVICE_APP, **settings), wrk_env)
    log(f"[{shape}] features: {', '.join(FEATURES)}, interleaved")
    found = bench.measure({label: (server.url, wrk_env) for label, (server, wrk_env) in servers.items()}, 1,
                         servers={label: server for label, (server, _) in servers.items()})
    for label, measurement in found.items():
        bench.results[(shape, f"single, {label}")] = measurement
    for server, _ in servers.values():
        server.stop()
    run_data_quality(bench, shape)


def run_data_quality(bench: Bench, shape: str) -> None:
    """(f) bots and the tracking plan against both off, single events then 100-event batches, each set interleaved."""
    servers = {
        label: (bench.start(shape, SERVICE_APP, **settings), wrk_env)
        for label, (settings, wrk_env) in DATA_QUALITY.items()
    }
    for events, kind in ((1, "single"), (100, "batch")):
        log(f"[{shape}] data quality: {', '.join(DATA_QUALITY)}: {kind}, interleaved")
        found = bench.measure({label: (server.url, wrk_env) for label, (server, wrk_env) in servers.items()}, events,
                             servers={label: server for label, (server, _) in servers.items()})
        for label, measurement in found.items():
            bench.results[(shape, f"{kind}, {label}")] = measurement
    for server, _ in servers.values():
        server.stop()


def run_worker_models(bench: Bench) -> None:
    """(g) the worker model: threads per worker, workers per core, sync workers, one shared socket."""
    servers = {label: bench.start("deployed", SERVICE_APP, args, **settings)
               for label, (settings, args) in WORKER_MODELS.items()}
    log(f"[deployed] worker models: {', '.join(WORKER_MODELS)}, interleaved")
    for label, measurement in bench.measure(servers, 1).items():
        bench.results[("deployed", f"single, {label}")] = measurement
    for server in servers.values():
        server.stop()


def run_rss(bench: Bench, shape: str) -> None:
    """(e) worker RSS after warm-up, then every minute of `rss_seconds` of 100-event batches.

    At least `rss_events` events in all.

    With COLLECTOR_RETENTION_BYTES, as a long-running VM would have it, so
    that the run's disk use stays bounded and deletion runs too.
    """
    target, seconds = bench.args.rss_events, bench.args.rss_seconds
    log(f"[{shape}] RSS: {seconds:g} s and at least {target:,} events in 100-event batches")
    server = bench.start(shape, SERVICE_APP, COLLECTOR_RETENTION_BYTES=str(1 << 30))
    url, threads, conns = server.url, bench.args.wrk_threads, bench.args.connections
    wrkload.run_wrk(url, 10 if not bench.args.quick else 2, 100, conns, threads, bench.nonce())
    trajectory = [(0, server.worker_rss_mb())]
    done, started = 0, time.monotonic()
    next_sample = started + 60
    while (done < target or time.monotonic() - started < seconds) and time.monotonic() - started < seconds + 900:
        found = wrkload.run_wrk(url, 10, 100, conns, threads, bench.nonce())
        done += (found.requests - found.non_2xx) * 100
        if time.monotonic() >= next_sample:
            trajectory.append((done, server.worker_rss_mb()))
            next_sample += 60
    if trajectory[-1][0] != done:
        trajectory.append((done, server.worker_rss_mb()))
    bench.rss_seconds_run = time.monotonic() - started
    bench.rss_runs[shape] = trajectory
    server.stop()


def run_profiles(bench: Bench) -> None:
    import profiling

    profiling.ensure_py_spy()
    plan = (("deployed", 1, "single", True), ("deployed", 100, "batch", True),
            ("default", 1, "single", True), ("default", 100, "batch", True),
            ("deployed", 1, "single", False))
    for shape, events, kind, gil in plan:
        if shape not in bench.args.shapes:
            continue
        title = f"{shape} {kind}" + ("" if gil else " (wall clock: threads waiting in syscalls count)")
        log(f"[{shape}] py-spy profile, {kind} events, {'--gil' if gil else 'wall clock'}")
        server = bench.start(shape, SERVICE_APP)
        wrkload.run_wrk(server.url, 3, events, bench.args.connections, bench.args.wrk_threads, bench.nonce())
        bench.profiles[title] = profiling.record(
            server, bench.tmp / f"profile-{shape}-{kind}-{gil}.txt", bench.args.profile_seconds,
            lambda s, server=server, events=events: wrkload.run_wrk(
                server.url, s, events, bench.args.connections, bench.args.wrk_threads, bench.nonce()
            ),
            gil=gil,
        )
        server.stop()
