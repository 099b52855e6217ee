"""The collector's benchmark: `python3 bench/run.py` (see `--help` and docs/benchmark.md).

Starts memcached and, for each shape (deployed: 2 workers + memcached limits;
default: the Quick start's, sqlite:// limits and a worker per core), the collector, the naive service and a bare-WSGI
baseline under the same gunicorn.conf.py, drives them with wrk, and prints
every figure also as a ratio to the baseline measured in the same run. Writes
bench/RESULTS.md on a full run. Everything started is stopped, and the
temporary data directory removed, whatever happens.

This file is the run's order; the command line is options.py, the servers a
run starts and measures runner.py, what is measured beside what scenarios.py,
the page report.py.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import tempfile
import time
from pathlib import Path

import beforetree
import options
import procs
import report
import runner
import scenarios


def main(argv: list[str]) -> int:
    args = options.parse_args(argv, __doc__.splitlines()[0])
    procs.ensure_apt_packages("wrk", "memcached")
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        tmp = Path(tempfile.mkdtemp(prefix="collector-bench-"))
        stack.callback(shutil.rmtree, tmp, True)
        bench = runner.Bench(args, tmp, stack)
        if args.before:
            # Removed before tmp is: the stack's callbacks run last-in, first-out.
            bench.before = beforetree.checkout(args.before, tmp, stack)
        for shape in args.shapes if not (args.rss_only or args.segment_only) else ():
            scenarios.run_shape(bench, shape)
        for shape in args.shapes if args.segment_only else ():
            scenarios.run_segment(bench, shape)
        if args.rss_only or args.segment_only:
            args.no_fsync = args.no_models = args.no_features = True
            args.profile = False
        if args.segment_only:
            args.rss_events = 0
        if not args.no_fsync and "deployed" in args.shapes:
            scenarios.run_fsync(bench)
        if not args.no_models and "deployed" in args.shapes:
            scenarios.run_worker_models(bench)
        if not args.no_features:
            for shape in args.shapes:
                scenarios.run_features(bench, shape)
        if args.rss_events:
            for shape in args.rss_shapes.split(","):
                if shape.strip() in args.shapes:
                    scenarios.run_rss(bench, shape.strip())
        if args.profile:
            scenarios.run_profiles(bench)
        text = report.render(args, bench, argv, time.monotonic() - started)
    print(text)
    if args.results:
        args.results.write_text(text)
        runner.log(f"wrote {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
