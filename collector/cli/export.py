"""`collector export parquet`: finished files as Parquet files, each once (collector/loaders/parquet.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from .output import add_data_dir, not_the_owner


def add_commands(commands: Any) -> None:
    group = commands.add_parser(
        "export",
        help="export finished files as files a warehouse reads, each once",
        description="Export finished files, each once.",
    )
    formats = group.add_subparsers(title="formats")
    group.set_defaults(run=lambda args, out: group.print_help(out) or 2)
    parquet = formats.add_parser(
        "parquet",
        help="finished files as Parquet, by UTC day (dt=YYYY-MM-DD/), each exactly once",
        description="Export every finished file (plain and .gz) not exported to DIR yet as Parquet files under "
        "DIR/dt=YYYY-MM-DD/ (UTC day of receivedAt), one per file and day, named after the file; the files "
        "exported are recorded in DATA_DIR/parquet-exports/. Safe to run from a timer: a second exporter to "
        "the same DIR at the same time exits 0 having done nothing. Erasures logged in erasures.log since the "
        "last run are applied first: the files they name are exported again over their Parquet files. "
        "Exits 1 if a file could not be exported (not readable to its end, or refused by DuckDB): it is tried "
        "again next run.",
    )
    parquet.add_argument(
        "--to", required=True, type=Path, metavar="DIR",
        help="the directory of the Parquet files (made if missing; its parent must exist)",
    )  # fmt: skip
    add_data_dir(parquet)
    parquet.add_argument(
        "--by-type", action="store_true",
        help="one more level, DIR/dt=YYYY-MM-DD/eventType=T/ (T percent-encoded as Hive does: a/b is a%%2Fb)",
    )  # fmt: skip
    parquet.add_argument(
        "--again", nargs="+", default=[], metavar="FILE",
        help="export these data files again though they were exported before (an erasure logged in erasures.log "
        "needs none: it is applied by itself), over their Parquet files",
    )  # fmt: skip
    parquet.set_defaults(run=run_parquet)


def run_parquet(args: argparse.Namespace, out: TextIO) -> int:
    # Imported here: DuckDB takes 0.1 s to import, which only an export needs.
    from ..loaders import ledger, parquet

    def report(problem: Any) -> None:
        where = f"{problem.path.name}:{problem.line}" if problem.line else problem.path.name
        print(f"collector: {where}: {problem.reason}", file=sys.stderr)

    if not_the_owner(args.data_dir):  # its ledger is in the data directory
        return 2
    if not args.to.is_dir() and not args.to.parent.is_dir():
        # Made if missing, but not its parents: a typo makes no tree of directories (or one on an unmounted disk).
        print(f"collector: no directory {args.to.parent} to make {args.to.name} in", file=sys.stderr)
        return 2
    try:
        outcome = parquet.export(args.data_dir, args.to, args.by_type, report, args.again)
    except ledger.AlreadyRunning as error:
        print(f"collector: {error}", file=sys.stderr)
        return 0
    except OSError as error:
        # A target or data directory that cannot be written (full, read-only): what was renamed stays
        # whole, the file under way is exported again, in place, next run.
        print(f"collector: {error}", file=sys.stderr)
        return 1
    except ledger.Damaged as error:
        print(f"collector: {error}: remove or mend it (its file is then exported again, in place)", file=sys.stderr)
        return 1
    applied = f"; applied {outcome.erasures} erasures (erasures.log)" if outcome.erasures else ""
    print(f"exported {len(outcome.files)} files, {outcome.events} events{applied}", file=out)
    return 1 if outcome.failed else 0
