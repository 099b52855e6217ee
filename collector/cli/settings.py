"""`collector settings`: every COLLECTOR_* setting as the service would read it, or docs/configuration.md's table."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from ..settings import envfile, load_settings, markdown_table, risks, text_table


def add_commands(commands: Any) -> None:
    """Add `settings` to the subcommands `commands` of the `collector` parser."""
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
