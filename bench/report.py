"""The run's results as Markdown, for users: what was measured, on what, at which commit, and the ratios.

No verdicts: a figure is given beside what it is compared with in the same
run (the bare WSGI app, the naive Flask service), and readers judge.
"""

from __future__ import annotations

import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import scenarios
from wrkload import Measurement, Spread

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("gunicorn", "flask", "werkzeug", "marshmallow", "flask-limiter", "limits", "orjson", "pymemcache")


def render(args, bench, argv: list[str], elapsed: float) -> str:
    parts = [
        "# Benchmark results\n",
        "What it costs to run the collector: the collector under gunicorn, driven by wrk, beside a bare "
        "WSGI app (bench/baseline_app.py: reads the body, answers 201) and a naive Flask service "
        "(bench/naive_app.py) under the same gunicorn.conf.py and worker settings, on the same machine in "
        "the same run, rounds interleaved. Absolute numbers depend on the machine, ratios much less: every "
        "figure is also given as a ratio to what it is compared with. Written by `python3 bench/run.py`; "
        "the figures are those of the commit named under Machine, not of any later one.\n",
        machine(),
        *([before_note(bench.before)] if getattr(bench, "before", None) else []),
        command(args, argv, elapsed),
        "## The main figures\n",
        main_figures(bench),
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
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")), "?")
    versions = ", ".join(f"{name} {_version(name)}" for name in PACKAGES)
    commit = _run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    return (
        "## Machine\n\n"
        f"- nproc: {_run(['nproc'])}; CPU: {model}; kernel: {platform.release()}; "
        f"Python {platform.python_version()}\n"
        f"- {versions}\n- {_run(['wrk', '--version'])}; memcached {_run(['memcached', '-V'])}\n"
        f"- figures from commit {commit}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: "
        f"`git log {commit}..HEAD -- collector gunicorn.conf.py` lists what has changed in the service since\n"
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


def before_note(before) -> str:
    return (
        f"Beside this commit's collector, the collector of `{before.ref}` (commit {before.commit}; "
        f"rows `{before.label}`), from a git worktree of it with its own gunicorn.conf.py, under the same "
        "settings, load and interleaved rounds: their ratio is what the commits between them changed.\n"
    )


def command(args, argv: list[str], elapsed: float) -> str:
    return (
        "## Command\n\n"
        f"```sh\npython3 bench/run.py {' '.join(argv)}\n```\n\n"
        f"{args.warmup:g}s warm-up per server, then {args.rounds} rounds x {args.seconds:g}s; "
        f"wrk -t{args.wrk_threads} -c{args.connections}, keep-alive. Figures: median of the "
        f"rounds, (min-max) in brackets. Events of ~430 bytes (properties, context, unique "
        f"eventId); batches of 100. Shapes: **deployed** = COLLECTOR_WORKERS=2, rate limits in "
        f"memcached; **default** = the Quick start's: nothing set, so rate limits in sqlite:// (a file in the data "
        f"directory) and a worker per core (2); its `memory:// (1 worker)` rows are the default before sqlite://. "
        f"All gthread, COLLECTOR_THREADS as gunicorn.conf.py ships (4), access log on "
        f"(as gunicorn.conf.py ships), on a fixed port, one listening socket shared by the workers "
        f"(worker_connections 2 x threads). "
        f"**naive service** = bench/naive_app.py (Flask, marshmallow, flask-limiter memory://, a plain file append) "
        f"under 2 sync gunicorn workers in both shapes, access log off. "
        f"Rate limit 100000000/hour except the 429 rows (1/hour). "
        f"Run took {elapsed / 60:.1f} min.\n"
    )


def _get(bench, shape: str, name: str) -> Measurement | None:
    return bench.results.get((shape, name))


def _row(what: str, shape: str, measured: str, compared_with: str, ratio: str) -> str:
    return f"| {what} | {shape} | {measured} | {compared_with} | {ratio} |"


def main_figures(bench) -> str:
    """The figures docs/benchmark.md quotes, each beside what it is compared with in the same run."""
    rows = ["| what | shape | measured | compared with | ratio |", "|---|---|---|---|---|"]
    for shape in ("deployed", "default"):
        base = _get(bench, shape, "baseline single")
        if base:
            rows += _shape_rows(bench, shape, base)
        rows += _segment_rows(bench, shape)
        rows += _data_quality_rows(bench, shape)
    pinned = [m for (shape, name), m in bench.results.items()
              if len(m.worker_cores) > 1 and "shared" not in name and "naive" not in name and "baseline" not in name]
    if pinned:
        idle = sum(m.idle_worker_rounds for m in pinned)
        rounds = sum(len(m.rounds) for m in pinned)
        rows.append(_row("rounds with a worker idle (< 0.2 cores), collector as shipped", "both",
                         f"{idle} of {rounds}", "-", "-"))
    for shape, trajectory in bench.rss_runs.items():
        warm, final = max(trajectory[0][1]), max(trajectory[-1][1])
        rows.append(_row(f"worker RSS after {trajectory[-1][0]:,} events", shape, f"{final:.1f} MB",
                         f"after warm-up: {warm:.1f} MB", f"{final - warm:+.1f} MB"))
    for kind in ("single", "batch"):
        interval, never = (_get(bench, "deployed", f"fsync={m} {kind}") for m in ("interval", "never"))
        if interval and never:
            rows.append(
                _row(
                    f"req/s, {kind}, COLLECTOR_FSYNC=interval",
                    "deployed",
                    f"{interval.rps.median:,.0f}",
                    f"COLLECTOR_FSYNC=never: {never.rps.median:,.0f}",
                    f"{interval.rps.ratio(never.rps):.2f}x",
                )
            )
    return "\n".join(rows) + "\n"


def _shape_rows(bench, shape: str, base: Measurement) -> list[str]:
    rows = []
    single, batch, refused = (_get(bench, shape, n) for n in ("single", "batch", "429"))
    naive_single, naive_batch = (_get(bench, shape, f"naive service {n}") for n in ("single", "batch"))
    if single:
        rows.append(_row("single events, req/s", shape, f"{single.rps.median:,.0f}",
                         f"bare WSGI: {base.rps.median:,.0f}", f"{single.rps.ratio(base.rps):.2f}x"))
        if naive_single:
            rows.append(_row("single events, req/s", shape, f"{single.rps.median:,.0f}",
                             f"naive Flask service: {naive_single.rps.median:,.0f}",
                             f"{single.rps.ratio(naive_single.rps):.2f}x"))
        rows.append(_row("single events, p99 latency at 16 connections", shape, f"{single.p99.median:.1f} ms",
                         f"bare WSGI: {base.p99.median:.1f} ms", f"{single.p99.ratio(base.p99):.2f}x"))
    if batch:
        rows.append(_row("100-event batches, events/s", shape, f"{batch.eps.median:,.0f}",
                         f"bare WSGI single-event req/s x 100: {base.rps.median * 100:,.0f}",
                         f"{batch.eps.median / (base.rps.median * 100):.3f}x"))
        if naive_batch:
            rows.append(_row("100-event batches, events/s", shape, f"{batch.eps.median:,.0f}",
                             f"naive Flask service: {naive_batch.eps.median:,.0f}",
                             f"{batch.eps.ratio(naive_batch.eps):.2f}x"))
    rows += _before_rows(bench, shape, base)
    if refused:
        rows.append(_row("a client over its limit (429), req/s", shape, f"{refused.rps.median:,.0f}",
                         f"bare WSGI single events: {base.rps.median:,.0f}", f"{refused.rps.ratio(base.rps):.2f}x"))
    return rows


def _before_rows(bench, shape: str, base: Measurement) -> list[str]:
    """--before: the earlier commit's collector against the bare WSGI app, and this commit's against it."""
    before = getattr(bench, "before", None)
    if before is None:
        return []
    rows = []
    single, batch = _get(bench, shape, "single"), _get(bench, shape, "batch")
    then_single, then_batch = (_get(bench, shape, f"{kind}, {before.label}") for kind in ("single", "batch"))
    if then_single:
        rows.append(_row(f"single events, req/s, {before.label}", shape, f"{then_single.rps.median:,.0f}",
                         f"bare WSGI: {base.rps.median:,.0f}", f"{then_single.rps.ratio(base.rps):.2f}x"))
        if single:
            rows.append(_row("single events, req/s, this commit", shape, f"{single.rps.median:,.0f}",
                             f"{before.label}: {then_single.rps.median:,.0f}",
                             f"{single.rps.ratio(then_single.rps):.2f}x"))
    if then_batch:
        rows.append(_row(f"100-event batches, events/s, {before.label}", shape, f"{then_batch.eps.median:,.0f}",
                         f"bare WSGI single-event req/s x 100: {base.rps.median * 100:,.0f}",
                         f"{then_batch.eps.median / (base.rps.median * 100):.3f}x"))
        if batch:
            rows.append(_row("100-event batches, events/s, this commit", shape, f"{batch.eps.median:,.0f}",
                             f"{before.label}: {then_batch.eps.median:,.0f}",
                             f"{batch.eps.ratio(then_batch.eps):.2f}x"))
    return rows


def _segment_rows(bench, shape: str) -> list[str]:
    """The Segment-compatible /v1/batch beside /collect/event, both 100 events a request, same server and rounds."""
    batch, segment = _get(bench, shape, "batch"), _get(bench, shape, "batch, Segment /v1/batch")
    if not (batch and segment):
        return []
    return [_row("Segment /v1/batch, 100 messages a request, events/s", shape, f"{segment.eps.median:,.0f}",
                 f"/collect/event, 100-event batches: {batch.eps.median:,.0f}", f"{segment.eps.ratio(batch.eps):.2f}x")]


def _data_quality_rows(bench, shape: str) -> list[str]:
    """(f) bots and the tracking plan, each against both off in the same rounds: what telling data apart costs."""
    rows = []
    for kind, unit in (("single", "single events, req/s"), ("batch", "100-event batches, events/s")):
        off = _get(bench, shape, f"{kind}, {scenarios.BOTS_OFF_LABEL}")
        if off is None:
            continue
        for label in scenarios.DATA_QUALITY:
            found = _get(bench, shape, f"{kind}, {label}")
            if label == scenarios.BOTS_OFF_LABEL or found is None:
                continue
            rows.append(_row(f"{unit}, {label}", shape, f"{found.eps.median:,.0f}",
                             f"{scenarios.BOTS_OFF_LABEL}: {off.eps.median:,.0f}", f"{found.eps.ratio(off.eps):.2f}x"))
    return rows


def _spread(s: Spread, fmt: str) -> str:
    return f"{s.median:{fmt}} ({s.low:{fmt}}-{s.high:{fmt}})"


def results_table(bench) -> str:
    rows = [
        "| shape | scenario | req/s | x base | events/s | p50 ms | p99 ms | p99 x base "
        "| worker cores | worker RSS MB | notes |",
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
