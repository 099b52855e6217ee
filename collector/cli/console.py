"""`collector console`: the read-only console over COLLECTOR_DATA_DIR, or the data directories named, under gunicorn."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from .. import datadir
from ..settings import data_dir_to_read, load_settings
from .output import add_data_dirs


def add_commands(commands: Any) -> None:
    """Add `console` to the subcommands `commands` of the `collector` parser."""
    console = commands.add_parser(
        "console",
        help="serve the console: events as they land, traffic and rejected requests (read-only)",
        description="Serve the console over COLLECTOR_DATA_DIR (or --data-dir) under gunicorn: a page of the events "
        "as they land and charts of the traffic and rejected requests, and its JSON API. "
        "Binds to loopback unless COLLECTOR_CONSOLE_KEY is set.",
    )
    console.add_argument("--bind", default=None, metavar="HOST:PORT", help="where to listen (default 127.0.0.1:8700)")
    console.add_argument(
        "--metrics-url",
        help="the collector's /metrics, for the rejected requests (default: from COLLECTOR_BIND, e.g. http://127.0.0.1:8000/metrics)",
    )
    # Not `data_dirs`, which `collector` checks for the default too: the console
    # starts before the collector has made COLLECTOR_DATA_DIR, as it always did.
    add_data_dirs(console, "each event shown with its instance, the directory's name", dest="console_data_dirs")
    console.add_argument(
        "--allow-replay",
        action="store_true",
        help="offer a replay button on each dead letter (needs COLLECTOR_CONSOLE_KEY, and the data directory "
        "writable: the replay stores events, as `collector deadletter replay` does)",
    )
    console.set_defaults(run=run_console)


def run_console(args: argparse.Namespace, out: TextIO) -> int:
    from ..console import server

    named = args.console_data_dirs or []
    data_dirs = named or [data_dir_to_read()]
    # The console only reads: its data directory need not be writable to it
    # (the systemd unit makes the whole file system read-only). Unless it
    # replays: then it loads the settings as `collector deadletter replay` does,
    # the data directory checked writable at start, not at the first click. It
    # replays into the one directory it reads, never into a copy shipped from another VM.
    if args.allow_replay:
        settings = load_settings(overrides={"data_dir": str(named[0])} if len(named) == 1 else None)
    else:
        settings = load_settings(overrides={"data_dir": data_dirs[0]})
    bind = args.bind or server.DEFAULT_BIND
    problem = (
        server.bind_problem(bind, settings.console_key)
        or server.replay_problem(args.allow_replay, settings.console_key, len(data_dirs))
        or _directories_problem(named)
        or (datadir.owner_problem(settings.data_dir) if args.allow_replay else None)
    )
    if problem:
        print(f"collector: {problem}", file=sys.stderr)
        return 2
    server.ConsoleServer(settings, bind, args.metrics_url, data_dirs, allow_replay=args.allow_replay).run()
    return 0


def _directories_problem(named: list[Path]) -> str | None:
    """Why the directories named cannot be served: one is not there (a typo), or there are too many."""
    from ..console.stores import MAX_DIRECTORIES

    for data_dir in named:
        if not data_dir.is_dir():
            return f"no data directory at {data_dir}"
    if (count := len(datadir.each_once(named))) > MAX_DIRECTORIES:
        return f"the console reads 1 to {MAX_DIRECTORIES} data directories; got {count}"
    return None
