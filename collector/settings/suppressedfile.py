"""COLLECTOR_SUPPRESSED_IDS_FILE: the ids of people who asked not to be collected, read when the settings are.

A bad file is a bad setting: it stops start-up (and `collector settings`) in
one line behind the variable's name, and at a SIGHUP the reload is refused
and the list in effect kept (collector/server/startup.py). See
docs/suppression.md and collector/suppressed.py.
"""

from __future__ import annotations

from pathlib import Path

from ..suppressed import SuppressedIds, SuppressedIdsError, read_ids
from . import pinned
from .error import SettingsError
from .values import EMPTY

VARIABLE = "COLLECTOR_SUPPRESSED_IDS_FILE"


def suppressed_ids(raw: str) -> SuppressedIds | None:
    """The ids of the file named by `raw`; None when empty (off); in a worker, its master's (see pinned.py).

    :raises SettingsError: the file cannot be read or breaks a bound, in one line.
    """
    return pinned.read_file(VARIABLE, raw, read_ids, SuppressedIdsError)


def check_outside(listed: SuppressedIds | None, data_dir: Path) -> None:
    """:raises SettingsError: the file is inside the data directory (by any name: links are resolved)."""
    if listed is None:
        return
    if Path(listed.source).resolve().is_relative_to(Path(data_dir).resolve()):
        # The erasure (`collector events forget`) rewrites the data directory, and whatever ships the
        # data directory elsewhere would ship the list of the very people who asked not to be collected.
        raise SettingsError(
            f"{VARIABLE}={listed.source} is inside COLLECTOR_DATA_DIR={data_dir}: keep it outside "
            "(e.g. /etc/collector/suppressed-ids.txt), where the erasure and the shippers never touch it"
        )


def show_suppressed(listed: SuppressedIds | None) -> str:
    """The file, and how many ids it held when read (the ids themselves are never shown)."""
    if listed is None:
        return EMPTY
    return f"{listed.source} ({len(listed)} id{'s' if len(listed) != 1 else ''})"
