"""The event store: JSON-lines files written, rotated, compressed, expired, read and verified.

`build_writer(settings)` is what the app uses; `datafiles` (the on-disk format)
and `reading` (events in time order, file checks) are what the tools use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import datafiles, deadletters, reading
from .deadletters import DeadLetters
from .maintenance import Maintenance
from .writer import EventWriter

if TYPE_CHECKING:
    from ..settings import Settings

__all__ = [
    "DeadLetters",
    "EventWriter",
    "Maintenance",
    "build_dead_letters",
    "build_writer",
    "datafiles",
    "deadletters",
    "reading",
]


def build_writer(settings: Settings) -> EventWriter:
    """The writer of this process, with compression and retention of finished files wired in."""
    maintenance = Maintenance(
        data_dir=settings.data_dir,
        compress=settings.compress,
        retention_days=settings.retention_days,
        retention_bytes=settings.retention_bytes,
    )
    return EventWriter(
        data_dir=settings.data_dir,
        rotate_bytes=settings.rotate_bytes,
        rotate_seconds=settings.rotate_seconds,
        host_name=settings.host_name,
        fsync=settings.fsync,
        fsync_seconds=settings.fsync_seconds,
        on_finish=maintenance.wake,
        on_stop=maintenance.run_before_exit,
    )


def build_dead_letters(settings: Settings) -> DeadLetters | None:
    """The dead-letter store when COLLECTOR_DEAD_LETTER is on, else None."""
    if settings.dead_letter != "on":
        return None
    return DeadLetters(
        settings.data_dir, settings.host_name, settings.dead_letter_max_body_bytes, settings.dead_letter_max_bytes
    )
