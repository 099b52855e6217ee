"""bench/run.py's command line: the options, and the defaults that depend on each other (--quick)."""

from __future__ import annotations

import argparse
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def parse_args(argv: list[str], description: str = "") -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
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
                        help="skip (f), each optional feature (CORS, keys, privacy, dedupe, idempotency, bots) on")
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
    parser.add_argument("--before", metavar="REF",
                        help="also measure the collector of commit REF (a git worktree of it, removed at the end) "
                             "beside this tree's in (a) and (b): same load, same rounds, its own rows and ratios")
    parser.add_argument("--results", type=Path,
                        help="write the Markdown report here (default bench/RESULTS.md unless --quick)")
    args = parser.parse_args(argv)
    if args.before is not None and (args.segment_only or args.rss_only):
        parser.error("--before compares (a) and (b), which --segment-only and --rss-only skip")
    if args.before is not None and not args.before.strip():
        parser.error("--before needs a commit: a hash, a tag or a branch")
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
        args.results = RESULTS
    args.shapes = [s.strip() for s in args.shapes.split(",") if s.strip()]
    return args
