"""Drive wrk with bench/wrk/events.lua and turn its output into figures.

A measurement is a warm-up run (thrown away) and several rounds; each figure
is reported as the median of the rounds, with the rounds' min and max.
"""

from __future__ import annotations

import dataclasses
import json
import os
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

LUA = Path(__file__).resolve().parent / "wrk" / "events.lua"
# A worker using less than this (in cores) while others work is idle: its
# share of the connections went elsewhere.
IDLE_CORES = 0.2
_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS


@dataclasses.dataclass
class Round:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int  # socket errors and timeouts
    non_2xx: int
    # CPU each worker used during the round, in cores (CPU seconds / seconds), busiest first.
    worker_cores: list[float] = dataclasses.field(default_factory=list)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


@dataclasses.dataclass
class Spread:
    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: list[float]) -> Spread:
        return cls(statistics.median(values), min(values), max(values))

    def ratio(self, other: Spread) -> float:
        return self.median / other.median if other.median else float("nan")


@dataclasses.dataclass
class Measurement:
    """The rounds of one scenario, and what they add up to."""

    rounds: list[Round]
    events_per_request: int
    expect_2xx: bool
    rss_mb: list[float] = dataclasses.field(default_factory=list)

    @property
    def rps(self) -> Spread:
        return Spread.of([r.rps for r in self.rounds])

    @property
    def eps(self) -> Spread:
        """Accepted events per second (2xx responses x events per request)."""
        return Spread.of(
            [(r.requests - r.non_2xx) * self.events_per_request / r.seconds for r in self.rounds]
        )

    @property
    def p50(self) -> Spread:
        return Spread.of([r.p50_ms for r in self.rounds])

    @property
    def p99(self) -> Spread:
        return Spread.of([r.p99_ms for r in self.rounds])

    @property
    def worker_cores(self) -> list[float]:
        """Each worker's CPU in cores, busiest first: the medians over the rounds."""
        rounds = [r.worker_cores for r in self.rounds if r.worker_cores]
        if not rounds:
            return []
        return [statistics.median(r[i] for r in rounds if len(r) > i) for i in range(max(map(len, rounds)))]

    @property
    def idle_worker_rounds(self) -> int:
        """Rounds in which some worker sat (nearly) idle while another was busy: connections pinned."""
        return sum(1 for r in self.rounds if len(r.worker_cores) > 1 and r.worker_cores[-1] < IDLE_CORES)

    @property
    def problems(self) -> str:
        errors = sum(r.errors for r in self.rounds)
        unexpected = sum(
            (r.non_2xx if self.expect_2xx else r.requests - r.non_2xx) for r in self.rounds
        )
        notes = []
        if errors:
            notes.append(f"{errors} socket errors/timeouts")
        if unexpected:
            notes.append(f"{unexpected} unexpected {'non-2xx' if self.expect_2xx else '2xx'}")
        return "; ".join(notes)


def run_wrk(
    url: str, seconds: float, events: int, connections: int, threads: int, nonce: int, extra_env: dict | None = None,
    workers: Callable[[], list[int]] | None = None,
) -> Round:
    """One wrk run; `extra_env` passes BENCH_HEADERS / BENCH_IDEMPOTENCY to the script.

    `workers` gives the server's worker pids: their CPU use is measured over the run.
    """
    pids = workers() if workers else []
    before = [cpu_seconds(pid) for pid in pids]
    started = time.monotonic()
    env = {**os.environ, "BENCH_EVENTS": str(events), "BENCH_NONCE": str(nonce), **(extra_env or {})}
    args = [
        "wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s",
        "--timeout", "10s", "-s", str(LUA), url,
    ]
    out = subprocess.run(
        args, env=env, capture_output=True, text=True, timeout=seconds + 60, check=True
    ).stdout
    elapsed = time.monotonic() - started
    cores = sorted(((cpu_seconds(pid) - b) / elapsed for pid, b in zip(pids, before, strict=True)), reverse=True)
    line = next((text for text in out.splitlines() if text.startswith("BENCH_RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{out}")
    data = json.loads(line.split(" ", 1)[1])
    return Round(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        errors=data["connect"] + data["read"] + data["write"] + data["timeout"],
        non_2xx=data["status"],
        worker_cores=cores,
    )


def measure_interleaved(
    targets: dict[str, str | tuple[str, dict]],
    *,
    events: int,
    warmup: float,
    rounds: int,
    seconds: float,
    connections: int,
    threads: int,
    nonce: Callable[[], int],
    expect_2xx: bool = True,
    workers: dict[str, Callable[[], list[int]]] | None = None,
) -> dict[str, Measurement]:
    """Measure several servers (label -> url) round by round, in turn.

    Alternating rounds spreads the noise of a shared machine evenly over the
    servers being compared, so their ratios hold better than back-to-back runs.
    A target may be (url, extra wrk environment), for requests with extra headers.
    `workers` (label -> a function giving the worker pids) adds each worker's CPU.
    """
    workers = workers or {}
    plain = {label: target if isinstance(target, tuple) else (target, {}) for label, target in targets.items()}
    for url, extra in plain.values():
        if warmup > 0:
            run_wrk(url, warmup, events, connections, threads, nonce(), extra)
    results: dict[str, list[Round]] = {label: [] for label in targets}
    for _ in range(rounds):
        for label, (url, extra) in plain.items():
            results[label].append(
                run_wrk(url, seconds, events, connections, threads, nonce(), extra, workers.get(label))
            )
    return {label: Measurement(found, events, expect_2xx) for label, found in results.items()}
