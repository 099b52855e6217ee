"""The `collector` command for operators.

`collector events cat|verify|stats|forget|export|query`, `plan infer|check`, `settings`, `openapi`,
`deadletter list|replay`, `console`, `load postgres`, `export parquet`, `serve`.

Output goes to stdout as plain text or JSON lines, meant for pipes (`| jq`,
`| head`); problems go to stderr. A reader gone away (`| head`) ends the
command quietly, as `cat` does.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from ..settings import SettingsError, data_dir_to_read
from . import console, deadletter, erasure, events, export, load, openapi, plan, query, serve, settings
from .output import time_argument


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
    """The `collector` parser: each command's module adds its own subcommands, in the order `--help` lists them."""
    parser = argparse.ArgumentParser(prog="collector", description="Tools for the collector's event store.")
    commands = parser.add_subparsers(title="commands")
    event_commands = events.add_commands(commands)
    erasure.add_commands(event_commands)
    query.add_commands(event_commands)
    plan.add_commands(commands)
    settings.add_commands(commands)
    openapi.add_commands(commands)
    deadletter.add_commands(commands, time_argument)
    console.add_commands(commands)
    load.add_commands(commands)
    export.add_commands(commands)
    serve.add_commands(commands)
    return parser


def _data_dirs(args: argparse.Namespace) -> list[Path]:
    """The data directories a command reads: cat's several, or the one of the others."""
    if getattr(args, "data_dirs", None) is not None:
        return args.data_dirs
    return [args.data_dir] if getattr(args, "data_dir", None) is not None else []
