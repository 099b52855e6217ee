"""The Parquet export's hive partition directories: `dt=YYYY-MM-DD` and, by type, `eventType=T`.

The layout DuckDB, Spark, Hive, Athena and BigQuery read as partitions: a
reader takes the column's value from the directory's name. An eventType is
any 1-128 characters but control characters (`collector/eventtypes.py`), so
it is made safe for a path the way Hive does it and readers undo it: a byte
that a path or a reader would misread (`/`, `=`, `%`, a space, any ASCII
punctuation but `_ . - ~`) is written `%XX` (its hex), which DuckDB, Hive and
Spark decode back to the type as sent; letters of other scripts are kept as
they are (UTF-8 names are fine on every filesystem the collector runs on).
"""

from __future__ import annotations

import hashlib

# Hive's own name for a partition whose value is NULL: readers give NULL back.
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"
# NAME_MAX of Linux filesystems (ext4, xfs, tmpfs): bytes of one directory name.
_NAME_MAX = 255
_KEPT_ASCII = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-~")


def day_directory(day: str) -> str:
    """The directory of a UTC day (`2026-12-01`) of receivedAt."""
    return f"dt={day}"


def type_directory(event_type: str | None) -> str:
    """The directory of one eventType (None: events without one), escaped as Hive escapes a partition value.

    A type whose escaped name would not fit in a directory name (more than
    about 80 letters of a non-Latin script) is cut, and ends with `~` and a
    hash of the whole type, so that two long types never share a directory.
    A reader then takes the cut name from the path; the Parquet files still
    hold the type in full in their own `eventType` column.
    """
    if event_type is None:
        return f"eventType={NULL_PARTITION}"
    pieces = [_escaped(char) for char in event_type]
    if event_type == NULL_PARTITION:  # a type of that very name is not NULL
        pieces[0] = "%5F"
    name = "eventType=" + "".join(pieces)
    if len(name.encode()) <= _NAME_MAX:
        return name
    suffix = "~" + hashlib.sha256(event_type.encode()).hexdigest()[:16]
    name = "eventType="
    for piece in pieces:
        if len((name + piece + suffix).encode()) > _NAME_MAX:
            break
        name += piece
    return name + suffix


def _escaped(char: str) -> str:
    if char in _KEPT_ASCII or ord(char) >= 0xA0:
        return char
    return "".join(f"%{byte:02X}" for byte in char.encode())
