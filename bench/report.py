"""The run's results as Markdown: machine, command, targets, every figure, profiles."""

from __future__ import annotations

import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

from wrkload import Measurement, Spread

ROOT = Path(__file__).resolve().parent.parent
RSS_LIMIT_MB = 80
RSS_FLAT_MB = 2.0  # growth allowed after warm-up: allocator noise, not a leak
PACKAGES = ("gunicorn", "flask", "werkzeug", "marshmallow", "flask-limiter", "limits", "orjson", "pymemcache")


def render(args, bench, argv: list[str], elapsed: float) -> str:
    parts = [
        "# Benchmark results\n",
        "Written by `python3 bench/run.py`; numbers are only comparable within one run, "
        "which is why every figure is also given as a ratio to the bare-WSGI baseline "
        "(bench/baseline_app.py: reads the body, answers 201) measured in the same run, "
        "under the same gunicorn.conf.py and worker settings, rounds interleaved with the collector's.\n",
        machine(),
        command(args, argv, elapsed),
        "## Targets (issue 15)\n",
        targets_table(bench),
        "## Every measurement\n",
        results_table(bench),
    ]
    if bench.rss_runs:
        minutes = getattr(bench, "rss_seconds_run", 0) / 60
        parts += [f"## Worker RSS under {minutes:.0f} minutes of 100-event batches (COLLECTOR_RETENTION_BYTES=1GiB)\n",
                  rss_table(bench)]
    for name, profile in bench.profiles.items():
        parts.append(profile_section(name, profile))
    return "\n".join(parts)


def _run(args: list[str]) -> str:
    try:
        out = subprocess.run(args, capture_output=True, text=True, timeout=10)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "?"


def machine() -> str:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next((l.split(":", 1)[1].strip() for l in cpuinfo.splitlines() if l.startswith("model name")), "?")
    versions = ", ".join(f"{name} {_version(name)}" for name in PACKAGES)
    commit = _run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    return (
        "## Machine\n\n"
        f"- nproc: {_run(['nproc'])}; CPU: {model}; kernel: {platform.release()}; "
        f"Python {platform.python_version()}\n"
        f"- {versions}\n- {_run(['wrk', '--version'])}; memcached {_run(['memcached', '-V'])}\n"
        f"- commit {commit}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n"
        f"- COLLECTOR_FSYNC known to this commit's settings: {'yes' if fsync_setting_exists() else 'NO'}\n"
    )


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "-"


def fsync_setting_exists() -> bool:
    sys.path.insert(0, str(ROOT))
    try:
        from collector.settings import declarations
    finally:
        sys.path.pop(0)
    return any(setting.env == "COLLECTOR_FSYNC" for setting in declarations())


def command(args, argv: list[str], elapsed: float) -> str:
    return (
        "## Command\n\n"
        f"```sh\npython3 bench/run.py {' '.join(argv)}\n```\n\n"
        f"{args.warmup:g}s warm-up per server, then {args.rounds} rounds x {args.seconds:g}s; "
        f"wrk -t{args.wrk_threads} -c{args.connections}, keep-alive. Figures: median of the "
        f"rounds, (min-max) in brackets. Events of ~430 bytes (properties, context, unique "
        f"eventId); batches of 100. Shapes: **deployed** = COLLECTOR_WORKERS=2, rate limits in "
        f"memcached; **default** = the Quick start's: nothing set, so rate limits in sqlite:// (a file in the data directory) and a worker per core (2); its `memory:// (1 worker)` rows are the default before sqlite://. All gthread, COLLECTOR_THREADS as gunicorn.conf.py ships (4), access log on "
        f"(as gunicorn.conf.py ships), on a fixed port, one listening socket shared by the workers (worker_connections 2 x threads). "
        f"**naive service** = bench/naive_app.py (Flask, marshmallow, flask-limiter memory://, a plain file append) "
        f"under 2 sync gunicorn workers in both shapes, access log off. "
        f"Rate limit 100000000/hour except the 429 rows (1/hour). "
        f"Run took {elapsed / 60:.1f} min.\n"
    )


def _get(bench, shape: str, name: str) -> Measurement | None:
    return bench.results.get((shape, name))


def _row(what, shape, value, ratio, target, met) -> str:
    verdict = "n/a" if met is None else ("**met**" if met else "**not met**")
    return f"| {what} | {shape} | {value} | {ratio} | {target} | {verdict} |"


def targets_table(bench) -> str:
    rows = ["| what | shape | measured | ratio | target | |", "|---|---|---|---|---|---|"]
    for shape in ("deployed", "default"):
        base = _get(bench, shape, "baseline single")
        single, batch, refused = (_get(bench, shape, n) for n in ("single", "batch", "429"))
        if not base:
            continue
        if single:
            r = single.rps.ratio(base.rps)
            rows.append(_row("single-event req/s", shape, f"{single.rps.median:,.0f} (baseline {base.rps.median:,.0f})",
                             f"{r:.2f}x", ">= 0.6x", r >= 0.6))
            naive = _get(bench, shape, "naive service single")
            if naive:
                r = single.rps.ratio(naive.rps)
                rows.append(_row("single-event req/s vs the naive service", shape,
                                 f"{single.rps.median:,.0f} (naive {naive.rps.median:,.0f})",
                                 f"{r:.2f}x naive", "> 1x", r > 1))
            r = single.p99.ratio(base.p99)
            rows.append(_row("p99, single events, 16 conns", shape,
                             f"{single.p99.median:.1f} ms (baseline {base.p99.median:.1f} ms)",
                             f"{r:.2f}x", "<= 2x", r <= 2))
        if batch:
            r = batch.eps.median / (base.rps.median * 100)
            rows.append(_row("events/s, 100-event batches", shape,
                             f"{batch.eps.median:,.0f} (target {0.25 * base.rps.median * 100:,.0f})",
                             f"{r:.3f}x baseline req/s x 100", ">= 0.25x", r >= 0.25))
        if refused:
            r = refused.rps.ratio(base.rps)
            rows.append(_row("429 path req/s", shape, f"{refused.rps.median:,.0f}", f"{r:.2f}x", ">= 0.8x", r >= 0.8))
    pinned = [(shape, name, m) for (shape, name), m in bench.results.items()
              if len(m.worker_cores) > 1 and "shared" not in name and "naive" not in name and "baseline" not in name]
    if pinned:
        idle = sum(m.idle_worker_rounds for _, _, m in pinned)
        rounds = sum(len(m.rounds) for _, _, m in pinned)
        rows.append(_row("rounds with a worker idle (< 0.2 cores), collector as shipped", "deployed",
                         f"{idle} of {rounds}", "-", "0", idle == 0))
    for shape, trajectory in bench.rss_runs.items():
        warm, final = max(trajectory[0][1]), max(trajectory[-1][1])
        rows.append(_row(f"worker RSS after {trajectory[-1][0]:,} events", shape,
                         f"{final:.1f} MB (after warm-up {warm:.1f} MB)", f"{final - warm:+.1f} MB",
                         f"flat (<= +{RSS_FLAT_MB:g} MB), < {RSS_LIMIT_MB} MB",
                         final - warm <= RSS_FLAT_MB and final < RSS_LIMIT_MB))
    for kind in ("single", "batch"):
        interval, never = (_get(bench, "deployed", f"fsync={m} {kind}") for m in ("interval", "never"))
        if interval and never:
            r = interval.rps.ratio(never.rps)
            rows.append(_row(f"COLLECTOR_FSYNC=interval vs never, {kind}", "deployed",
                             f"{interval.rps.median:,.0f} vs {never.rps.median:,.0f} req/s",
                             f"{r:.2f}x", "within 10%", abs(1 - r) <= 0.10))
    return "\n".join(rows) + "\n"


def _spread(s: Spread, fmt: str) -> str:
    return f"{s.median:{fmt}} ({s.low:{fmt}}-{s.high:{fmt}})"


def results_table(bench) -> str:
    rows = [
        "| shape | scenario | req/s | x base | events/s | p50 ms | p99 ms | p99 x base | worker cores | worker RSS MB | notes |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (shape, name), m in bench.results.items():
        kind = "batch" if m.events_per_request == 100 else "single"
        base = _get(bench, shape, f"baseline {kind}")
        ratio = f"{m.rps.ratio(base.rps):.2f}x" if base else "-"
        p99_ratio = f"{m.p99.ratio(base.p99):.2f}x" if base else "-"
        rss = "/".join(f"{v:.1f}" for v in m.rss_mb) or "-"
        cores = "/".join(f"{v:.2f}" for v in m.worker_cores) or "-"
        notes = "; ".join(filter(None, [m.problems, f"{m.idle_worker_rounds} rounds with a worker idle"
                                        if m.idle_worker_rounds else ""]))
        rows.append(
            f"| {shape} | {name} | {_spread(m.rps, ',.0f')} | {ratio} | {_spread(m.eps, ',.0f')} | "
            f"{_spread(m.p50, '.1f')} | {_spread(m.p99, '.1f')} | {p99_ratio} | {cores} | {rss} | {notes} |"
        )
    notes = (
        "\n`x base`: ratio to the baseline with the same body (single or 100-event batch) in the same "
        "shape; the 429 row compares with the single-event baseline. Worker cores: the CPU each "
        "worker used during a round (CPU seconds / seconds), busiest first, median over the rounds; "
        "a worker under 0.2 cores while another works is idle (its connections went elsewhere). "
        "RSS: each worker's VmRSS after the scenario. COLLECTOR_FSYNC rows: the variable is passed to every server; "
        "if this commit's settings do not know it (see Machine), the three rows run the same "
        "code and their spread is the run's noise.\n"
    )
    return "\n".join(rows) + "\n" + notes


def rss_table(bench) -> str:
    rows = ["| shape | events stored | worker RSS MB (each worker) |", "|---|---|---|"]
    for shape, trajectory in bench.rss_runs.items():
        for done, sizes in trajectory:
            label = "after warm-up" if done == 0 else f"{done:,}"
            rows.append(f"| {shape} | {label} | {' / '.join(f'{v:.1f}' for v in sizes)} |")
    return "\n".join(rows) + "\n"


def profile_section(name: str, profile) -> str:
    def table(title: str, entries) -> str:
        # nonblocking sampling sometimes reads a torn frame: fold those, and
        # unattributed libraries under 0.5%, into one row.
        lines, small = [f"| {title} | % of samples |", "|---|---|"], 0.0
        for key, share in entries:
            if key.startswith("other (") and (share < 0.5 or not (key.isascii() and key.isprintable())):
                small += share
                continue
            lines.append(f"| {key.replace('|', '/')} | {share:.1f} |")
        if small:
            lines.append(f"| other (each < 0.5%, incl. unreadable nonblocking samples) | {small:.1f} |")
        return "\n".join(lines) + "\n"

    return (
        f"## Profile: {name}\n\n"
        f"py-spy record --subprocesses --nonblocking --rate 100"
        + (" --gil: only the thread holding the GIL counts (Python CPU)" if profile.gil
           else " (no --gil): every non-idle thread counts, waits in syscalls included")
        + f"; {profile.samples:,} samples over all workers; "
        f"load under the profiler {profile.load_rps:,.0f} req/s.\n\n"
        "Where the time goes (each sample counted once, in the outermost matching bucket):\n\n"
        + table("bucket", profile.buckets)
        + "\nInclusive shares (a sample counts if any frame matches):\n\n"
        + table("area", profile.inclusive)
        + "\nTop functions by own time (C calls count toward the Python line calling them):\n\n"
        + table("function (file)", profile.own)
        + "\nTop functions by cumulative time (frames present in ~every sample dropped):\n\n"
        + table("function (file)", profile.cumulative)
    )
