"""`collector events cat|verify|stats`: read and check the stored events."""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Iterator
from typing import Any, TextIO

from .. import datadir
from ..deadletters import letters as deadletters
from ..store import datafiles, reading
from .output import Skipped, add_data_dir, add_data_dirs, count, table, time_argument

BAR_WIDTH = 40
# `--bots`: the readers print every stored event unless told (a reader never hides lines).
BOTS_CHOICES = ("exclude", "only")


def add_commands(commands: Any) -> Any:
    """Add `events cat|verify|stats` to the subcommands `commands` of the `collector` parser; `events`' own subcommands.

    (`forget` and `export` add themselves there: cli/erasure.py.)
    """
    group = commands.add_parser(
        "events", help="read and check stored events", description="Read and check stored events."
    )
    actions = group.add_subparsers(title="commands")
    group.set_defaults(run=lambda args, out: group.print_help(out) or 2)
    _add_cat(actions)
    verify = actions.add_parser(
        "verify",
        help="check every file; exit 1 if anything is wrong",
        description="Check every data file line by line; print counts per file and every bad line. "
        "Exits 1 if anything is wrong.",
    )
    verify.set_defaults(run=run_verify)
    stats = actions.add_parser(
        "stats",
        help="events per type and per hour, as tables and a chart; rejected requests by code",
        description="Count stored events per type and per hour (UTC): the tables, then the hours as a bar chart, "
        "then rejected requests by code from the dead letters (COLLECTOR_DEAD_LETTER=on).",
    )
    stats.add_argument("--json", action="store_true", help="print one JSON object instead, for scripts")
    _add_bots(stats)
    stats.set_defaults(run=run_stats)
    for command in (verify, stats):
        add_data_dir(command)
    return actions


def _add_cat(actions: Any) -> None:
    cat = actions.add_parser(
        "cat",
        help="print stored events as JSON lines, oldest first",
        description="Print every stored event (open, finished and compressed files) as JSON lines, oldest first.",
    )
    cat.add_argument(
        "--since",
        type=time_argument,
        help="only events received at or after this time (RFC 3339 or a date; UTC if no offset)",
    )
    cat.add_argument("--until", type=time_argument, help="only events received before this time")
    cat.add_argument("--type", dest="event_type", help="only events of this eventType")
    _add_bots(cat)
    add_data_dirs(cat, "read as one stream in receivedAt order")
    cat.set_defaults(run=run_cat)


def _add_bots(command: Any) -> None:
    command.add_argument(
        "--bots",
        choices=BOTS_CHOICES,
        help="`exclude`: leave out the events of known bots (those stored with client.bot, see docs/bots.md); "
        "`only`: only those (default: every event)",
    )


def _wanted(bots: str | None, event: dict[str, Any]) -> bool:
    """Whether `--bots` keeps `event`: every event without it."""
    if bots is None:
        return True
    return (reading.bot_of(event) is not None) == (bots == "only")


def run_cat(args: argparse.Namespace, out: TextIO) -> int:
    since = args.since if args.since is not None else float("-inf")
    until = args.until if args.until is not None else float("inf")
    stream = out.buffer
    skipped = Skipped()
    for line, event in reading.events_in_time_order(datadir.each_once(args.data_dirs), on_problem=skipped.warn):
        if args.event_type is not None and event.get("eventType") != args.event_type:
            continue
        if not _wanted(args.bots, event):
            continue
        if since <= reading.parse_time(event["receivedAt"]) < until:
            stream.write(line)
    stream.flush()
    return skipped.exit_status()


def run_verify(args: argparse.Namespace, out: TextIO) -> int:
    reports = [reading.check_file(path) for path in datafiles.data_files(args.data_dir)]
    rows = [
        (r.path.name, str(r.events), str(r.bytes), r.first or "-", r.last or "-", "ok" if not r.problems else "BAD")
        for r in reports
    ]
    table(out, ("file", "events", "bytes", "first receivedAt", "last receivedAt", "status"), rows)
    problems = [problem for report in reports for problem in report.problems]
    for problem in problems:
        print(f"{problem.path}:{problem.line}: {problem.reason}", file=out)
    total = sum(report.events for report in reports)
    print(f"{count(len(reports), 'file')}, {count(total, 'event')}, {count(len(problems), 'problem')}", file=out)
    out.flush()
    return 1 if problems else 0


class BotCounts:
    """The bots among the events counted: per type and per category."""

    def __init__(self) -> None:
        self.per_type: Counter[str] = Counter()
        self.per_category: Counter[str] = Counter()

    def count(self, event: dict[str, Any]) -> None:
        bot = reading.bot_of(event)
        if bot is not None:
            self.per_type[str(event.get("eventType"))] += 1
            self.per_category[str(bot.get("category"))] += 1


def run_stats(args: argparse.Namespace, out: TextIO) -> int:
    skipped = Skipped()
    bots = BotCounts()
    events = (event for _, event in reading.events_in_time_order(args.data_dir, on_problem=skipped.warn))
    per_type, per_hour = reading.count_events(_counting_bots(events, args.bots, bots))
    rejections = Counter(str(letter.get("code")) for letter in deadletters.read(args.data_dir))
    if args.json:
        summary = {
            "events": sum(per_type.values()),
            "bots": sum(bots.per_type.values()),
            "perType": dict(per_type.most_common()),
            "botsPerType": dict(bots.per_type.most_common()),
            "botsByCategory": dict(bots.per_category.most_common()),
            "perHour": {hour + ":00Z": n for hour, n in sorted(per_hour.items())},
            "rejectionsByCode": dict(rejections.most_common()),
        }
        print(json.dumps(summary), file=out)
        out.flush()
        return skipped.exit_status()
    _print_stats(out, per_type, per_hour, rejections, bots)
    return skipped.exit_status()


def _counting_bots(events: Iterator[dict[str, Any]], choice: str | None, bots: BotCounts) -> Iterator[dict[str, Any]]:
    for event in events:
        if _wanted(choice, event):
            bots.count(event)
            yield event


def _print_stats(
    out: TextIO, per_type: Counter[str], per_hour: Counter[str], rejections: Counter[str], bots: BotCounts
) -> None:
    """The tables (people and bots apart), the hours as bars, the dead letters by code, then the total."""
    rows = [
        (name, str(n), str(n - bots.per_type[name]), str(bots.per_type[name]), _share(bots.per_type[name], n))
        for name, n in per_type.most_common()
    ]
    table(out, ("eventType", "events", "people", "bots", "bot share"), rows)
    if bots.per_category:
        print("\nbots' events by category", file=out)
        table(out, ("category", "events"), [(name, str(n)) for name, n in bots.per_category.most_common()])
    print(file=out)
    table(out, ("hour (UTC)", "events"), [(hour + ":00Z", str(n)) for hour, n in sorted(per_hour.items())])
    if per_hour:
        print("\nevents per hour (UTC)", file=out)
        most = max(per_hour.values())
        for hour, n in sorted(per_hour.items()):
            bar = "\u2588" * max(1, round(n / most * BAR_WIDTH))
            print(f"{hour}h  {bar} {n}", file=out)
    if rejections:
        print("\nrejected requests by code (dead letters)", file=out)
        table(out, ("code", "requests"), [(code, str(n)) for code, n in rejections.most_common()])
    print(f"\n{count(sum(per_type.values()), 'event')}, {sum(bots.per_type.values())} of them from bots", file=out)
    out.flush()


def _share(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "-"
