"""The store's files read and checked in parallel for `collector events query`: a process per core.

Reading and checking lines in Python (gunzip, JSON, the time of each event)
was half of a query's time, one file after another on one core. Each file is
now one task: a worker process reads it with the store's own reader
(`reading.events_of_file`, `cat`'s rules) and writes the lines of its events
in the window, exactly as stored, to a file of its own, which DuckDB then
reads with the others. The damage a worker finds comes back to this process,
which reports it file by file in the files' order, as one process reading
them in turn would: the same messages, in the same order, whatever `jobs`.

Workers are spawned (not forked: this process has DuckDB loaded, and its
threads), so a script calling this needs Python's `if __name__ == "__main__":`
guard, as the `collector` command has. They ignore Ctrl-C, which this process
handles: the files not started are dropped, those being read are finished
(seconds: a file is at most the rotation size), then the workers end, so the
caller can remove their files once `write_checked` returns or raises.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from ..store import reading

# (the data file, the file its checked lines go to, since, until)
Task = tuple[Path, Path, float | None, float | None]


def max_jobs() -> int:
    """The most worker processes a query may use: one per core, as more only take turns on them."""
    return os.cpu_count() or 1


def jobs_for(files: int, jobs: int | None = None) -> int:
    """The processes to read `files` files with: `jobs`, else one per core, never more than the files."""
    return max(1, min(jobs if jobs is not None else max_jobs(), files))


def write_checked(
    files: Sequence[Path],
    since: float | None,
    until: float | None,
    folder: Path,
    on_problem: Callable[[reading.Problem], None],
    jobs: int | None = None,
) -> list[Path]:
    """Each of `files` read and checked, the lines of its events received in [since, until) wrapped as
    `{"e": ...}` in a file of its own in `folder`; those files, in the order of `files`.

    Problems go to `on_problem` in the order of `files`. With one job the files
    are read here, with no process started.
    """
    tasks = [(path, folder / f"part-{number:06d}.jsonl", since, until) for number, path in enumerate(files)]
    processes = jobs_for(len(tasks), jobs)
    if processes == 1:
        _report(map(check_file, tasks), on_problem)
    else:
        # Not multiprocessing.Pool: a worker killed (the kernel's OOM killer)
        # would leave it waiting forever; this executor raises BrokenProcessPool.
        spawn = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(processes, mp_context=spawn, initializer=_ignore_ctrl_c)
        try:
            with _ctrl_c_ignored():
                results = pool.map(check_file, tasks)  # the workers start here
            _report(results, on_problem)
        finally:
            # On an error or Ctrl-C the files not started are dropped, and those
            # being read (one per worker) finish first: none is left writing in `folder`.
            pool.shutdown(wait=True, cancel_futures=True)
    return [part for _, part, _, _ in tasks]


def _report(results: Iterator[list[reading.Problem]], on_problem: Callable[[reading.Problem], None]) -> None:
    for problems in results:
        for problem in problems:
            on_problem(problem)


@contextlib.contextmanager
def _ctrl_c_ignored() -> Iterator[None]:
    """SIGINT ignored while workers start, so that they start with it ignored (a disposition kept across exec).

    Ctrl-C reaches every process of the terminal's group: this process alone
    handles it (ending the workers); a worker still importing when it came
    would print a traceback of its own. A Ctrl-C in these milliseconds is lost.
    Signals are set from the main thread only; elsewhere `_ignore_ctrl_c` is all.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _ignore_ctrl_c() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def check_file(task: Task) -> list[reading.Problem]:
    """One data file's events in the window into its part file; the problems found in it, in line order."""
    path, part, since, until = task
    low = since if since is not None else float("-inf")
    high = until if until is not None else float("inf")
    problems: list[reading.Problem] = []
    with part.open("wb") as out:
        for line, event in reading.events_of_file(path, problems.append):
            if low <= reading.parse_time(event["receivedAt"]) < high:
                out.write(wrapped(line))
    return problems


def wrapped(line: bytes) -> bytes:
    """A stored line as `loading.FROM_WRAPPED_LINES` reads it: `{"e": <the line as stored>}`."""
    return b'{"e":' + line.rstrip(b"\n") + b"}\n"
