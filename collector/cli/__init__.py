"""The `collector` command for operators: `collector events cat|verify|stats`, `settings`, `openapi`, `deadletter list|replay`, `console`, `serve`.

Output goes to stdout as plain text or JSON lines, meant for pipes (`| jq`,
`| head`); problems go to stderr. A reader gone away (`| head`) ends the
command quietly, as `cat` does.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from . import deadletter, serve
from ..settings import SettingsError, data_dir_to_read, envfile, load_settings, markdown_table, risks, text_table
from ..store import datafiles, deadletters, reading


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        if getattr(args, "data_dir", "") is None:
            args.data_dir = data_dir_to_read()
        if getattr(args, "data_dirs", "") is None:
            args.data_dirs = [data_dir_to_read()]
        for data_dir in _data_dirs(args):
            if not data_dir.is_dir():
                print(f"collector: no data directory at {data_dir}", file=sys.stderr)
                return 2
        return args.run(args, sys.stdout)
    except SettingsError as error:
        print(f"collector: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader left (`| head`): say nothing, and keep Python's exit-time
        # flush of stdout from raising again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # what a shell reports for a command ended by SIGPIPE


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="collector", description="Tools for the collector's event store.")
    commands = parser.add_subparsers(title="commands")
    events = commands.add_parser("events", help="read and check stored events", description="Read and check stored events.")
    actions = events.add_subparsers(title="commands")
    events.set_defaults(run=lambda args, out: events.print_help(out) or 2)

    cat = actions.add_parser(
        "cat",
        help="print stored events as JSON lines, oldest first",
        description="Print every stored event (open, finished and compressed files) as JSON lines, oldest first.",
    )
    cat.add_argument("--since", type=_time, help="only events received at or after this time (RFC 3339 or a date; UTC if no offset)")
    cat.add_argument("--until", type=_time, help="only events received before this time")
    cat.add_argument("--type", dest="event_type", help="only events of this eventType")
    cat.add_argument(
        "--data-dir",
        dest="data_dirs",
        type=Path,
        nargs="+",
        action="extend",
        metavar="DIR",
        help="the data directory, or several (e.g. one copied from each VM: --data-dir vm-a vm-b, or --data-dir "
        "vm-a --data-dir vm-b), read as one stream in receivedAt order (default: COLLECTOR_DATA_DIR, or ./data)",
    )
    cat.set_defaults(run=run_cat)

    verify = actions.add_parser(
        "verify",
        help="check every file; exit 1 if anything is wrong",
        description="Check every data file line by line; print counts per file and every bad line. Exits 1 if anything is wrong.",
    )
    verify.set_defaults(run=run_verify)

    stats = actions.add_parser(
        "stats",
        help="events per type and per hour, as tables and a chart; rejections by code",
        description="Count stored events per type and per hour (UTC): the tables, then the hours as a bar chart, "
        "then refused requests by code from the dead letters (COLLECTOR_DEAD_LETTER=on).",
    )
    stats.add_argument("--json", action="store_true", help="print one JSON object instead, for scripts")
    stats.set_defaults(run=run_stats)

    for command in (verify, stats):
        command.add_argument("--data-dir", type=Path, help="the data directory (default: COLLECTOR_DATA_DIR, or ./data)")
    settings = commands.add_parser(
        "settings",
        help="every COLLECTOR_* setting: its value here, its default, what it does",
        description="Print every COLLECTOR_* setting as the service would read it from this "
        "environment, with its default and what it does. Exits 2 naming the variable if one is invalid.",
    )
    settings.add_argument(
        "--markdown",
        action="store_true",
        help="print docs/configuration.md's table instead (defaults and meanings; reads no environment)",
    )
    settings.add_argument(
        "--env-file",
        type=Path,
        metavar="FILE",
        help="read the settings from FILE as systemd's EnvironmentFile= does (values with spaces need no quotes), "
        "instead of from this environment",
    )
    settings.set_defaults(run=run_settings)
    openapi = commands.add_parser(
        "openapi",
        help="the OpenAPI document of POST /collect/event, for the default settings",
        description="Print the OpenAPI 3 document the service serves at GET /openapi.json, for the default "
        "settings (reads no environment): python -m collector openapi > docs/openapi.json",
    )
    openapi.set_defaults(run=run_openapi)
    deadletter.add_commands(commands, _time)
    console = commands.add_parser(
        "console",
        help="serve the console: events as they land, traffic and rejections (read-only)",
        description="Serve the console over COLLECTOR_DATA_DIR under gunicorn: a page of the events as they "
        "land and charts of the traffic, and its JSON API. Binds to loopback unless COLLECTOR_CONSOLE_KEY is set.",
    )
    console.add_argument("--bind", default=None, metavar="HOST:PORT", help="where to listen (default 127.0.0.1:8700)")
    console.add_argument(
        "--metrics-url",
        help="the collector's /metrics, for rejections (default: from COLLECTOR_BIND, e.g. http://127.0.0.1:8000/metrics)",
    )
    console.set_defaults(run=run_console)
    serve.add_commands(commands)
    return parser


def run_console(args: argparse.Namespace, out: TextIO) -> int:
    from ..console import server

    # The console only reads: its data directory need not be writable to it
    # (the systemd unit makes the whole file system read-only).
    settings = load_settings(overrides={"data_dir": data_dir_to_read()})
    bind = args.bind or server.DEFAULT_BIND
    problem = server.refusal(bind, settings.console_key)
    if problem:
        print(f"collector: {problem}", file=sys.stderr)
        return 2
    server.ConsoleServer(settings, bind, args.metrics_url).run()
    return 0


def _data_dirs(args: argparse.Namespace) -> list[Path]:
    """The data directories a command reads: cat's several, or the one of the others."""
    if getattr(args, "data_dirs", None) is not None:
        return args.data_dirs
    return [args.data_dir] if getattr(args, "data_dir", None) is not None else []


def _each_once(data_dirs: Sequence[Path]) -> list[Path]:
    """A directory named twice (`--data-dir data ./data`) is read once."""
    unique: dict[Path, Path] = {}
    for data_dir in data_dirs:
        unique.setdefault(data_dir.resolve(), data_dir)
    return list(unique.values())


def _time(text: str) -> float:
    try:
        return reading.parse_time(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date or time: {text!r} (e.g. 2026-11-26 or 2026-11-26T05:00:00Z)") from None


def run_cat(args: argparse.Namespace, out: TextIO) -> int:
    since = args.since if args.since is not None else float("-inf")
    until = args.until if args.until is not None else float("inf")
    stream = out.buffer
    skipped = _Skipped()
    for line, event in reading.events_in_time_order(_each_once(args.data_dirs), on_problem=skipped.warn):
        if args.event_type is not None and event.get("eventType") != args.event_type:
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
    _table(out, ("file", "events", "bytes", "first receivedAt", "last receivedAt", "status"), rows)
    problems = [problem for report in reports for problem in report.problems]
    for problem in problems:
        print(f"{problem.path}:{problem.line}: {problem.reason}", file=out)
    total = sum(report.events for report in reports)
    print(f"{_count(len(reports), 'file')}, {_count(total, 'event')}, {_count(len(problems), 'problem')}", file=out)
    out.flush()
    return 1 if problems else 0


def run_settings(args: argparse.Namespace, out: TextIO) -> int:
    if args.markdown:
        out.write(markdown_table())
    else:
        # With a file, only the file: the service does not see the caller's variables.
        settings = load_settings(environ=envfile.read(args.env_file) if args.env_file else None)
        out.write(text_table(settings))
        for risk in risks(settings):
            print(f"collector: warning: {risk}", file=sys.stderr)
    out.flush()
    return 0


def run_openapi(args: argparse.Namespace, out: TextIO) -> int:
    from ..ingest import openapi  # here: flask and apispec are not needed by the other commands

    out.write(openapi.render(openapi.document(load_settings(environ={}))).decode())
    out.flush()
    return 0


BAR_WIDTH = 40


def run_stats(args: argparse.Namespace, out: TextIO) -> int:
    skipped = _Skipped()
    events = (event for _, event in reading.events_in_time_order(args.data_dir, on_problem=skipped.warn))
    per_type, per_hour = reading.count_events(events)
    rejections = Counter(str(letter.get("code")) for letter in deadletters.read(args.data_dir))
    if args.json:
        summary = {
            "events": sum(per_type.values()),
            "perType": dict(per_type.most_common()),
            "perHour": {hour + ":00Z": n for hour, n in sorted(per_hour.items())},
            "rejectionsByCode": dict(rejections.most_common()),
        }
        print(json.dumps(summary), file=out)
        out.flush()
        return skipped.exit_status()
    _table(out, ("eventType", "events"), [(name, str(n)) for name, n in per_type.most_common()])
    print(file=out)
    _table(out, ("hour (UTC)", "events"), [(hour + ":00Z", str(n)) for hour, n in sorted(per_hour.items())])
    if per_hour:
        print("\nevents per hour (UTC)", file=out)
        most = max(per_hour.values())
        for hour, n in sorted(per_hour.items()):
            bar = "\u2588" * max(1, round(n / most * BAR_WIDTH))
            print(f"{hour}h  {bar} {n}", file=out)
    if rejections:
        print("\nrefused requests by code (dead letters)", file=out)
        _table(out, ("code", "requests"), [(code, str(n)) for code, n in rejections.most_common()])
    print(f"\n{_count(sum(per_type.values()), 'event')}", file=out)
    out.flush()
    return skipped.exit_status()


class _Skipped:
    """Lines and files a reading command could not read: each said on stderr, and the exit status.

    Like `cat` and `zcat`, a damaged file is reported and the others are read
    on, and the command then exits 1, so a script never mistakes a partial
    read for the whole store.
    """

    def __init__(self) -> None:
        self.count = 0

    def warn(self, problem: reading.Problem) -> None:
        self.count += 1
        print(f"collector: skipped {problem.path}:{problem.line}: {problem.reason} (see `collector events verify`)", file=sys.stderr)

    def exit_status(self) -> int:
        return 1 if self.count else 0


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _table(out: TextIO, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows)]
    for row in (headers, *rows):
        cells = [cell.rjust(width) if cell.isdigit() else cell.ljust(width) for cell, width in zip(row, widths)]
        print("  ".join(cells).rstrip(), file=out)
