"""`collector events query "SQL"`: DuckDB SQL over a view `events` of the whole store (collector/query/)."""

from __future__ import annotations

import argparse
import sys
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TextIO

from .. import datadir
from ..query import named, workers
from .output import Skipped, add_data_dirs, table, time_argument, whole_number_argument

# `--format`'s choices, written here: importing collector.query.formats would
# import DuckDB (0.1 s), which only a query needs, into every `collector` command.
FORMATS = ("table", "csv", "jsonl")


def add_commands(actions: Any) -> None:
    """Add `query` to `events`' subcommands `actions`."""
    query = actions.add_parser(
        "query",
        help="SQL (DuckDB) over a view `events` of every stored event",
        description="Run SQL (DuckDB) over a table `events` of every stored event (open, finished and compressed "
        "files, read as `collector events cat` reads them): typed columns eventType, eventId, userId, anonymousId, "
        "sessionId, pingId, timestamp, receivedAt, ..., JSON columns properties, context, messageheader, client, "
        "and `event`, the whole stored event. A damaged line or file is said on stderr and the exit status is 1.",
    )
    query.add_argument("sql", nargs="?", help='the query, e.g. "select eventType, count(*) from events group by 1"')
    query.add_argument("--name", help="run a named query shipped with the collector instead (see --list)")
    query.add_argument("--list", action=_List, nargs=0, help="list the named queries and what each answers")
    query.add_argument("--show", action=_Show, metavar="NAME", help="print the SQL of a named query, to copy")
    query.add_argument("--format", choices=FORMATS, default="table", help="the answer's form (default: table)")
    query.add_argument(
        "--since", type=time_argument, help="only events received at or after this time (files chosen by it)"
    )
    query.add_argument("--until", type=time_argument, help="only events received before this time")
    add_data_dirs(query, "read as one store")
    query.add_argument(
        "--jobs",
        type=jobs_argument,
        metavar="N",
        help="processes reading and checking the files, 1 to the machine's cores (default: one per core, "
        "at most one per file)",
    )
    query.add_argument(
        "--memory-limit",
        type=memory_argument,
        metavar="MiB",
        help="what DuckDB may hold before it spills to a temporary directory (default: a quarter of the "
        "machine's memory, at least 256 MiB)",
    )
    query.set_defaults(run=run_query)


def jobs_argument(text: str) -> int:
    """An argparse `type=` for `--jobs`: 1 to the cores of this machine (more would only take turns on them)."""
    return whole_number_argument(text, 1, workers.max_jobs(), "the cores of this machine")


def memory_argument(text: str) -> int:
    """An argparse `type=` for `--memory-limit`: MiB, from 64 to this machine's memory."""
    from ..query import loading

    return whole_number_argument(text, loading.MIN_MEMORY_MIB, loading.physical_memory_mib(), "MiB of this machine")


class _List(argparse.Action):
    """`--list` answers at once, as `--help` does: it needs no data directory."""

    def __call__(self, parser: argparse.ArgumentParser, *args: Any) -> None:
        table(sys.stdout, ("name", "what it answers"), named.described())
        parser.exit(0)


class _Show(argparse.Action):
    """`--show NAME` answers at once, as `--help` does: it needs no data directory."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any, *args: Any) -> None:
        try:
            sys.stdout.write(named.sql_of(str(values)))
        except named.UnknownQuery as error:
            parser.exit(2, f"collector: {error.args[0]}\n")
        parser.exit(0)


def run_query(args: argparse.Namespace, out: TextIO) -> int:
    sql = _sql(args)
    if sql is None:
        return 2
    import duckdb  # only a query needs it: see FORMATS

    from ..query import formats, loading

    skipped = Skipped()
    data_dirs = datadir.each_once(args.data_dirs)
    window = (args.since, args.until)
    try:
        with loading.opened(
            data_dirs, *window, on_problem=skipped.warn, check=sql, jobs=args.jobs, memory_mib=args.memory_limit
        ) as connection:
            answer = loading.run(connection, sql)
    except duckdb.Error as error:
        print(f"collector: the query failed: {error}", file=sys.stderr)
        return 2
    except BrokenProcessPool:
        # No answer rather than a partial one: what that worker had read is lost.
        print("collector: the query failed: a process reading the files was killed (out of memory?)", file=sys.stderr)
        return 2
    formats.write(answer, args.format, out)
    return skipped.exit_status()


def _sql(args: argparse.Namespace) -> str | None:
    """The SQL to run: the argument, or the named query's; None (said on stderr) when neither or both."""
    if (args.sql is None) == (args.name is None):
        print('collector: give a query ("SQL") or --name NAME (see --list), not both', file=sys.stderr)
        return None
    if args.name is None:
        return str(args.sql)
    try:
        return named.sql_of(args.name)
    except named.UnknownQuery as error:
        print(f"collector: {error.args[0]}", file=sys.stderr)
        return None
