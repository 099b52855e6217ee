"""Text in and out shared by the `collector` commands: tables, counts, times on the command line, skipped lines."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from .. import datadir
from ..store import reading


def add_data_dir(command: Any) -> None:
    """`--data-dir DIR`, as every command that reads one data directory takes it (`collector/cli/__init__.py`
    resolves the default)."""
    command.add_argument("--data-dir", type=Path, help="the data directory (default: COLLECTOR_DATA_DIR, or ./data)")


def add_data_dirs(command: Any, what: str, dest: str = "data_dirs") -> None:
    """`--data-dir DIR [DIR ...]` (or once per directory), as the commands that read several as one take it:
    `what` says what becomes of them. With `dest="data_dirs"`, `collector/cli/__init__.py` resolves the default;
    read them through `datadir.each_once`."""
    command.add_argument(
        "--data-dir",
        dest=dest,
        type=Path,
        nargs="+",
        action="extend",
        metavar="DIR",
        help=f"the data directory, or several (e.g. one copied from each VM: --data-dir vm-a vm-b, or --data-dir "
        f"vm-a --data-dir vm-b), {what} (default: COLLECTOR_DATA_DIR, or ./data)",
    )


def time_argument(text: str) -> float:
    """An argparse `type=` for `--since`/`--until`: a time, or one line saying what is expected."""
    try:
        return reading.parse_time(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a date or time: {text!r} (e.g. 2026-11-26 or 2026-11-26T05:00:00Z)"
        ) from None


class Skipped:
    """Lines and files a reading command could not read: each said on stderr, and the exit status.

    Like `cat` and `zcat`, a damaged file is reported and the others are read
    on, and the command then exits 1, so a script never mistakes a partial
    read for the whole store.
    """

    def __init__(self) -> None:
        self.count = 0

    def warn(self, problem: reading.Problem) -> None:
        self.count += 1
        print(
            f"collector: skipped {problem.path}:{problem.line}: {problem.reason} (see `collector events verify`)",
            file=sys.stderr,
        )

    def exit_status(self) -> int:
        return 1 if self.count else 0


def whole_number_argument(text: str, low: int, high: int, what: str) -> int:
    """`text` as a whole number from `low` to `high`, for an argparse `type=`; `what` says what bounds it."""
    try:
        number = int(text)
    except ValueError:
        number = low - 1
    if not low <= number <= high:
        raise argparse.ArgumentTypeError(f"{text!r}: give {low} to {high} ({what})")
    return number


def count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def table(out: TextIO, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows, strict=True)]
    for row in (headers, *rows):
        cells = [
            cell.rjust(width) if cell.isdigit() else cell.ljust(width) for cell, width in zip(row, widths, strict=True)
        ]
        print("  ".join(cells).rstrip(), file=out)


def not_the_owner(data_dir: Path) -> bool:
    """Whether this process is not the owner of `data_dir`, whom a command that writes there must run as; if
    so, said in one line on stderr (datadir.owner_problem says why)."""
    problem = datadir.owner_problem(data_dir)
    if problem:
        print(f"collector: {problem}", file=sys.stderr)
    return problem is not None
