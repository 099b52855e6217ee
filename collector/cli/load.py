"""`collector load postgres`: finished files into PostgreSQL, each exactly once (collector/loaders/postgres.py)."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from .output import add_data_dir


def add_commands(commands: Any) -> None:
    group = commands.add_parser(
        "load", help="load finished files into a database, each once", description="Load finished files, each once."
    )
    targets = group.add_subparsers(title="targets")
    group.set_defaults(run=lambda args, out: group.print_help(out) or 2)
    postgres = targets.add_parser(
        "postgres",
        help="finished files into a PostgreSQL table, each exactly once",
        description="Load every finished file (plain and .gz) not loaded yet into PostgreSQL tables "
        "collector_events and collector_loaded_files (the ledger), one transaction per file. "
        "Safe to run from a timer: a second loader at the same time exits 0 having done nothing. "
        "Exits 1 if a file could not be loaded (it is tried again next run).",
    )
    postgres.add_argument(
        "--dsn",
        required=True,
        help="a libpq connection string or URI, e.g. 'host=db dbname=events user=loader' "
        "(keep the password in ~/.pgpass or PGPASSFILE, not here: a command line is visible to every user)",
    )
    add_data_dir(postgres)
    postgres.set_defaults(run=run_postgres)


def run_postgres(args: argparse.Namespace, out: TextIO) -> int:
    # Imported here: psycopg is the `postgres` extra, which the service does not need.
    try:
        import psycopg

        from ..loaders import postgres
    except ImportError:
        print("collector: the PostgreSQL loader needs psycopg: pip install 'collector[postgres]'", file=sys.stderr)
        return 2

    def report(problem: Any) -> None:
        where = f"{problem.path.name}:{problem.line}" if problem.line else problem.path.name
        print(f"collector: {where}: {problem.reason}", file=sys.stderr)

    try:
        outcome = postgres.load(args.dsn, args.data_dir, report)
    except postgres.AlreadyRunning as error:
        print(f"collector: {error}", file=sys.stderr)
        return 0
    except psycopg.OperationalError as error:
        # Lost or refused: the file being loaded was rolled back whole; the next run takes it.
        print(f"collector: PostgreSQL: {error}".rstrip(), file=sys.stderr)
        return 1
    applied = f"; applied {outcome.erasures} erasures (erasures.log)" if outcome.erasures else ""
    print(f"loaded {len(outcome.files)} files, {outcome.events} events{applied}", file=out)
    return 1 if outcome.failed else 0
