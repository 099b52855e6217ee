"""The event store: JSON-lines files written, rotated, compressed, expired, read and verified.

`build_writer(settings)` is what the app uses; `datafiles` (the on-disk format),
`reading` (events in time order, file checks) and `finishing` (asking the
running service's writers to finish their open files) are what the tools use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import datafiles, finishing, reading
from .maintenance import Maintenance
from .writer import EventWriter

if TYPE_CHECKING:
    from ..settings import Settings

__all__ = [
    "EventWriter",
    "Maintenance",
    "build_writer",
    "datafiles",
    "finishing",
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

