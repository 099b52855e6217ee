"""What every loader takes from the store: its finished files, and the name a file keeps through compression."""

from __future__ import annotations

from pathlib import Path

from ..store import datafiles


def finished_files(data_dir: Path) -> list[Path]:
    """The finished files (plain and `.gz`) of `data_dir`, in time order: never an open one, still written."""
    return [path for path in datafiles.data_files(data_dir) if datafiles.is_finished(path)]


def ledger_name(path: Path) -> str:
    """A file's name in a ledger: without `.gz`, so compressing a loaded file does not load it again."""
    return path.name.removesuffix(".gz")


def stem(path: Path) -> str:
    """A file's name without `.jsonl` or `.jsonl.gz`: what outputs made of it are named after."""
    return ledger_name(path).removesuffix(datafiles.FINISHED_SUFFIX)
