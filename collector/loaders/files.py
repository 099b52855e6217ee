"""What every loader shares: the store's finished files, the name a file keeps through compression, the
erasures still to apply, and a run's outcome."""

from __future__ import annotations

import dataclasses
from collections.abc import Container, Iterator
from pathlib import Path

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
