"""What every loader shares: the store's finished files, the name a file keeps through compression, reading a
file's valid events with its counts, the erasures still to apply, and a run's outcome."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Container, Iterator
from pathlib import Path
from typing import Any

from ..erasure import audit
from ..store import datafiles, reading


@dataclasses.dataclass
class Outcome:
    """What a loader's run did: the files it loaded (by their ledger name), their events, the erasures applied,
    the problems said and the files that failed (tried again next run)."""

    files: list[str] = dataclasses.field(default_factory=list)
    events: int = 0
    erasures: int = 0
    problems: list[reading.Problem] = dataclasses.field(default_factory=list)
    failed: list[str] = dataclasses.field(default_factory=list)


def finished_files(data_dir: Path) -> list[Path]:
    """The finished files (plain and `.gz`) of `data_dir`, in time order: never an open one, still written."""
    return [path for path in datafiles.data_files(data_dir) if datafiles.is_finished(path)]


def ledger_name(path: Path) -> str:
    """A file's name in a ledger: without `.gz`, so compressing a loaded file does not load it again."""
    return path.name.removesuffix(".gz")


def stem(path: Path) -> str:
    """A file's name without `.jsonl` or `.jsonl.gz`: what outputs made of it are named after."""
    return ledger_name(path).removesuffix(datafiles.FINISHED_SUFFIX)


def finished_file(data_dir: Path, name: str) -> Path | None:
    """The finished file a ledger calls `name` (plain, or compressed since), or None if it is gone."""
    for path in (Path(data_dir) / name, Path(data_dir) / (name + ".gz")):
        if path.exists():
            return path
    return None


def erasures_to_apply(data_dir: Path, applied: Container[str]) -> Iterator[tuple[str, list[str]]]:
    """Each erasure of `erasures.log` not in `applied` (the SHA-256 of its line) and the ledger names of the files
    it names, rewritten or removed since (`erasure/audit.py`)."""
    for entry, logged in audit.logged(data_dir):
        if entry not in applied:
            yield entry, sorted({ledger_name(Path(name)) for name in audit.files_named(logged)})


class Unreadable(Exception):
    """A file that cannot be read to its end (a truncated `.gz`), or is gone (`gone`): what was read of it must
    not be loaded."""

    def __init__(self, problem: reading.Problem, gone: bool = False) -> None:
        super().__init__(problem.reason)
        self.problem = problem
        self.gone = gone


@dataclasses.dataclass
class Tally:
    """What a loader counts of a file as it reads it: its lines, their bytes and SHA-256 (uncompressed), its
    valid events, and the bad lines left out."""

    lines: int = 0
    size: int = 0
    events: int = 0
    digest: Any = dataclasses.field(default_factory=hashlib.sha256)
    problems: list[reading.Problem] = dataclasses.field(default_factory=list)


def checked_events(path: Path, tally: Tally) -> Iterator[tuple[int, bytes, dict[str, Any]]]:
    """Each valid event of `path`: its line number, its line as stored, the event; counted in `tally`, a bad line
    left out and noted there.

    :raises Unreadable: the file cannot be read to its end, or is gone (removed by retention since it was listed).
    """
    try:
        for raw in datafiles.iter_lines(path):
            tally.lines += 1
            tally.size += len(raw)
            tally.digest.update(raw)
            event, reason = reading.check_line(raw)
            if event is None:
                tally.problems.append(reading.Problem(path, tally.lines, reason))
                continue
            tally.events += 1
            yield tally.lines, raw, event
    except reading.UNREADABLE as error:
        problem = reading.Problem(path, tally.lines + 1, reading.unreadable(error))
        raise Unreadable(problem, gone=isinstance(error, FileNotFoundError)) from error
