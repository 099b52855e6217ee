"""`collector console`: the read-only console over COLLECTOR_DATA_DIR, under gunicorn."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from ..settings import data_dir_to_read, load_settings


def add_commands(commands: Any) -> None:
    """Add `console` to the subcommands `commands` of the `collector` parser."""
    console = commands.add_parser(
        "console",
        help="serve the console: events as they land, traffic and rejected requests (read-only)",
        description="Serve the console over COLLECTOR_DATA_DIR under gunicorn: a page of the events as they "
        "land and charts of the traffic and rejected requests, and its JSON API. "
        "Binds to loopback unless COLLECTOR_CONSOLE_KEY is set.",
    )
    console.add_argument("--bind", default=None, metavar="HOST:PORT", help="where to listen (default 127.0.0.1:8700)")
    console.add_argument(
        "--metrics-url",
        help="the collector's /metrics, for the rejected requests (default: from COLLECTOR_BIND, e.g. http://127.0.0.1:8000/metrics)",
    )
    console.add_argument(
        "--allow-replay",
        action="store_true",
        help="offer a replay button on each dead letter (needs COLLECTOR_CONSOLE_KEY, and the data directory "
        "writable: the replay stores events, as `collector deadletter replay` does)",
    )
    console.set_defaults(run=run_console)


def run_console(args: argparse.Namespace, out: TextIO) -> int:
    from ..console import server

    # The console only reads: its data directory need not be writable to it
    # (the systemd unit makes the whole file system read-only). Unless it
    # replays: then it loads the settings as `collector deadletter replay` does,
    # the data directory checked writable at start, not at the first click.
    settings = load_settings() if args.allow_replay else load_settings(overrides={"data_dir": data_dir_to_read()})
    bind = args.bind or server.DEFAULT_BIND
    problem = server.bind_problem(bind, settings.console_key) or server.replay_problem(
        args.allow_replay, settings.console_key
    )
    if problem:
        print(f"collector: {problem}", file=sys.stderr)
        return 2
    server.ConsoleServer(settings, bind, args.metrics_url, allow_replay=args.allow_replay).run()
    return 0
