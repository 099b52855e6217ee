"""`collector export parquet`: finished files as Parquet in a hive layout, each file exactly once.

Each finished file becomes one Parquet file per UTC day of its events'
`receivedAt` (and, with `by_type`, per eventType), named after it:
`DIR/dt=2026-12-01/events-20261201T010000.000000Z-vm-a-42-000001.parquet`.
Exactly once rests on those names, not on a transaction: a file's outputs are
written to hidden temporary names (`.<name>.parquet.part`, which no reader's
`*.parquet` glob takes, and which Spark and Hive skip as hidden), fsynced,
renamed into place (a reader sees the whole file or none), their directories
fsynced, and only then is the file recorded in the ledger (`ledger.py`). An
exporter killed anywhere before that record exports the file again next run,
to the same names: a rename replaces each output whole, never adds a second
copy. A `.part` left by a kill is replaced and renamed by that next export of
its file (cleaned, not swept: several data directories may share one target,
and another's exporter may be writing its own `.part` files meanwhile).

An erasure (`collector events forget`) rewrites or removes files already
exported, and logs which in `erasures.log`; each run first applies to its
target the erasures it has not applied yet, as the PostgreSQL loader does:
the files named are taken out of the ledger, and the run exports them again
as they are now, renaming the new Parquet files over the old ones (a reader
sees the old or the new, never a day missing) and then removing the old ones
not replaced (a day left with none of the file's events). A file the erasure
removed has its Parquet files removed at once; one that cannot be exported
again (damaged since) has them removed too: the erased events must go.

The columns are `collector events query`'s table (`query/loading.py`),
filled by the same code from the store's own reader: the days are UTC days
whatever the machine's time zone, JSON fields are JSON text (an integer
beyond 64 bits stays exact). One source file at a time: memory and the
scratch space are bounded by rotation, not by the size of the store.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb

from ..query import loading
from ..store import datafiles, reading
from . import ledger, partitions
from .files import (
    Outcome,
    Tally,
    Unreadable,
    checked_events,
    erasures_to_apply,
    finished_file,
    finished_files,
    ledger_name,
    stem,
)

# zstd: a third smaller than DuckDB's default snappy over events, read by
# every current reader (DuckDB, Spark 3, Athena, BigQuery, pyarrow).
COPY_OPTIONS = "FORMAT parquet, COMPRESSION zstd"
PART_SUFFIX = ".parquet.part"
MEMORY_LIMIT = "256MB"
_DAY = "__collector_day"


def export(
    data_dir: Path,
    target: Path,
    by_type: bool = False,
    on_problem: Callable[[reading.Problem], None] = lambda problem: None,
    again: Sequence[str] = (),
) -> Outcome:
    """Export every finished file of `data_dir` not in `target`'s ledger yet, one file at a time.

    The files named in `again` (rewritten by an erasure since their export)
    are taken out first: their Parquet files removed, then their records.

    :raises ledger.AlreadyRunning: another exporter works on this (data directory, target).
    :raises ledger.Damaged: a line of the ledger is not a record.
    :raises FileNotFoundError: `target` is missing and its parent too (it is made, its parents are not).
    """
    Path(target).mkdir(exist_ok=True)
    books = ledger.Ledger(data_dir, target)
    outcome = Outcome()
    with books.locked(), tempfile.TemporaryDirectory(prefix="collector-parquet-") as scratch:
        _take_out(books, Path(data_dir), {ledger_name(Path(name)) for name in again})
        outcome.erasures = _apply_erasures(books, Path(data_dir))
        done, stale = books.exported(), books.stale()
        with _connected(Path(scratch)) as connection:
            for path in finished_files(data_dir):
                if ledger_name(path) not in done:
                    old = stale.pop(ledger_name(path), [])
                    _export_one(connection, path, books, by_type, Path(scratch), outcome, on_problem, old)
        for outputs in stale.values():
            _remove(books.target, outputs)  # their files went since (retention): nothing will replace them
    return outcome


def _apply_erasures(books: ledger.Ledger, data_dir: Path) -> int:
    """Each erasure logged and not applied to this target yet: the exported files it names taken out (exported
    again as they are now by the run, a file it removed not at all), then the erasure recorded; how many.

    A kill before the record applies it again next run: what it took out is
    not exported any more, so nothing more is taken out, and the files are
    exported anew all the same.
    """
    count = 0
    for entry, named in erasures_to_apply(data_dir, books.applied_erasures()):
        taken = _take_out(books, data_dir, set(named))
        books.append({"erasure": entry, "target": str(books.target), "files": taken, "at": _now()})
        count += 1
    return count


def _take_out(books: ledger.Ledger, data_dir: Path, names: set[str]) -> list[str]:
    """Record these exported files as to be exported again, their outputs stale (replaced by that export); the
    outputs of a file that is gone (an erasure removed it), removed now. Which were exported."""
    exported = books.exported()
    taken = sorted(names & exported.keys())
    for name in taken:
        outputs = exported[name]["outputs"]
        if finished_file(data_dir, name) is None:
            _remove(books.target, outputs)
            books.append({"file": name, "target": str(books.target), "again": True, "removed": outputs, "at": _now()})
        else:
            books.append({"file": name, "target": str(books.target), "again": True, "stale": outputs, "at": _now()})
    return taken


def _remove(target: Path, outputs: Sequence[str]) -> None:
    """Remove these outputs (those already gone are fine), durably."""
    for output in outputs:
        (target / output).unlink(missing_ok=True)
    for directory in {(target / output).parent for output in outputs}:
        if directory.is_dir():
            datafiles.fsync_directory(directory)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@contextlib.contextmanager
def _connected(scratch: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    # No extension downloaded (the machines have no internet); what does not
    # fit in memory spills to the scratch directory, removed afterwards.
    connection = loading.connect(scratch)
    try:
        # DuckDB's default is 80% of the machine's memory, kept as a cache once
        # used (800 MB over 1M events): an export beside the collector on a
        # small VM holds a quarter of that, and spills the rest of a big file.
        connection.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
        yield connection
    finally:
        connection.close()


def _export_one(
    connection: duckdb.DuckDBPyConnection,
    path: Path,
    books: ledger.Ledger,
    by_type: bool,
    scratch: Path,
    outcome: Outcome,
    on_problem: Callable[[reading.Problem], None],
    stale: Sequence[str] = (),
) -> None:
    """One file: read whole first (a file unreadable to its end writes nothing), written, renamed over the
    `stale` outputs of its last export (an erasure's), those not replaced removed, recorded."""
    lines = scratch / "lines.jsonl"
    try:
        read = _read(path, lines)
        outputs = _write(connection, lines, books.target, stem(path), by_type)
    except Unreadable as error:
        if error.gone:  # removed by retention since it was listed: nothing to export, nor to replace its outputs
            _remove(books.target, stale)
        else:
            _failed(path, error.problem, stale, books, outcome, on_problem)
        return
    except duckdb.Error as error:
        _failed(path, _refused(path, error), stale, books, outcome, on_problem)
        return
    _remove(books.target, [output for output in stale if output not in outputs])
    books.append({
        "file": ledger_name(path), "target": str(books.target), "lines": read.lines,
        "badLines": read.lines - read.events, "events": read.events, "bytes": read.size,
        "sha256": read.digest.hexdigest(), "outputs": outputs,
        "exportedAt": _now(),
    })  # fmt: skip
    for problem in read.problems:
        on_problem(problem)
    outcome.problems.extend(read.problems)
    outcome.files.append(ledger_name(path))
    outcome.events += read.events


def _failed(
    path: Path,
    problem: reading.Problem,
    stale: Sequence[str],
    books: ledger.Ledger,
    outcome: Outcome,
    on_problem: Callable[[reading.Problem], None],
) -> None:
    """Not exported (not recorded), named, and tried again next run; the others go on. Outputs an erasure made
    stale go now all the same: the person's events must not stay until the file can be read."""
    _remove(books.target, stale)
    on_problem(problem)
    outcome.problems.append(problem)
    outcome.failed.append(ledger_name(path))


def _refused(path: Path, error: duckdb.Error) -> reading.Problem:
    # A line the store's reader takes but DuckDB does not (a receivedAt written by hand as 20261201T010000Z).
    return reading.Problem(path, 0, f"refused by DuckDB, not exported: {str(error).splitlines()[0]}")


def _read(path: Path, out_path: Path) -> Tally:
    """The valid events of `path` wrapped into `out_path` as `events query` reads them; bad lines left out, noted.

    :raises Unreadable: the file cannot be read to its end (a truncated `.gz`), or is gone.
    """
    tally = Tally()
    with out_path.open("wb") as out:
        for _line, raw, _event in checked_events(path, tally):
            out.write(loading.wrapped(raw))
    return tally


def _write(connection: duckdb.DuckDBPyConnection, lines: Path, target: Path, name: str, by_type: bool) -> list[str]:
    """The Parquet files of one source, each written under a hidden name, then all renamed: their paths in `target`."""
    connection.execute(
        f'CREATE OR REPLACE TABLE source AS SELECT *, CAST("receivedAt" AS DATE) AS {_DAY} '
        f"FROM ({loading.FROM_WRAPPED_LINES})",
        [str(lines)],
    )
    keys = f"CAST({_DAY} AS VARCHAR)" + (', "eventType"' if by_type else "")
    written: list[tuple[Path, Path]] = []
    for key in connection.execute(f"SELECT DISTINCT {keys} FROM source ORDER BY ALL").fetchall():
        directory = _directory(target, key, by_type)
        part = directory / f".{name}{PART_SUFFIX}"
        where = f"{_DAY} = CAST(? AS DATE)" + (' AND "eventType" IS NOT DISTINCT FROM ?' if by_type else "")
        connection.execute(
            f"COPY (SELECT * EXCLUDE ({_DAY}) FROM source WHERE {where}) TO {_literal(part)} ({COPY_OPTIONS})",
            list(key),
        )
        datafiles.fsync_file(part)
        written.append((part, directory / f"{name}.parquet"))
    connection.execute("DROP TABLE source")
    for part, final in written:
        os.replace(part, final)
    for directory in {final.parent for _, final in written}:
        datafiles.fsync_directory(directory)
    return [str(final.relative_to(target)) for _, final in written]


def _directory(target: Path, key: tuple[Any, ...], by_type: bool) -> Path:
    """The partition directory of `key` (day, and type), made if missing, durably."""
    directory = target / partitions.day_directory(key[0])
    if by_type:
        directory = directory / partitions.type_directory(key[1])
    for level in (directory.parent, directory) if by_type else (directory,):
        if not level.is_dir():
            level.mkdir(exist_ok=True)
            datafiles.fsync_directory(level.parent)
    return directory


def _literal(path: Path) -> str:
    """A path as an SQL string literal (COPY's target takes no parameter)."""
    return "'" + str(path).replace("'", "''") + "'"
