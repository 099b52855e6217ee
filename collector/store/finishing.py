"""Asking the running workers to finish their open files, and waiting until they have.

STUB on branch `forget`: replaced by branch `finish`, which builds the real
coordination with running workers. Only the names and signatures here are the
contract `collector.erasure` is written against. This stub asks no worker
anything: it is what a stopped service needs (every `.open` file was left by
a dead process, and `datafiles.recover_abandoned` finishes it), and with a
running service it reports the live workers' open files as not finished, so
that an erasure says it could not reach them rather than pretend it did.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from . import datafiles


def open_files(data_dir: Path) -> list[Path]:
    """The `.open` files in `data_dir`, of live workers or dead ones."""
    return [path for path in datafiles.data_files(Path(data_dir)) if path.name.endswith(datafiles.OPEN_SUFFIX)]


def ask_workers_to_finish(data_dir: Path) -> int:
    """Ask every running worker to finish its open file; how many were asked (the stub asks none)."""
    return 0


def wait_for_finished(data_dir: Path, open_files: Iterable[Path], timeout: float) -> bool:
    """Whether every one of `open_files` is finished (no longer there under its `.open` name).

    The stub does not wait: no worker was asked, so waiting would change nothing.
    """
    return not any(path.exists() for path in open_files)
