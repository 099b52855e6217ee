"""The settings read from a file (the tracking plan, the suppressed ids, the write keys) as gunicorn's master read
them, inherited by the workers it forks: a worker never reads those files itself.

A worker builds its app (and reads its settings) when it starts, which is
not only at a SIGHUP: a worker recycled by `max_requests`, or restarted after
a crash or a failed fsync, starts at any time. Were it to read such a file
then, an edited file would take effect in one worker without a reload, and a
file broken mid-edit would stop that worker from booting, which makes
gunicorn halt the whole service. So the master reads the files (at start and
on each SIGHUP, collector/server/startup.py) and pins what it read here; the
workers, forked from it, find the value pinned for the same variable and path
and take it as it is. A process that pinned nothing (the CLI, the tests)
reads the files.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from .error import SettingsError

T = TypeVar("T")

# Variable -> what the master read from its file; each value has `.source`, the path it was read from.
_pinned: dict[str, Any] = {}


def pin(variable: str, value: Any) -> None:
    """Keep `value` (None: none), read from its file, as `variable`'s in this process and the workers it forks."""
    if value is None:
        _pinned.pop(variable, None)
    else:
        _pinned[variable] = value


def unpin() -> dict[str, Any]:
    """Forget every pinned value, so that the next reading of the settings reads the files again; what they were
    (for `restore`, should that reading be refused)."""
    held = dict(_pinned)
    _pinned.clear()
    return held


def restore(held: Mapping[str, Any]) -> None:
    """Pin again what `unpin` gave back."""
    _pinned.clear()
    _pinned.update(held)


def pinned(variable: str, source: str) -> Any:
    """The value pinned for `variable` when it was read from the file `source`, else None."""
    value = _pinned.get(variable)
    return value if value is not None and str(value.source) == source else None


def read_file(
    variable: str, raw: str, read: Callable[[str], T], errors: tuple[type[Exception], ...] | type[Exception] = ()
) -> T | None:
    """The value of a setting naming a file (`raw`): None when empty; in a worker, what its master pinned; else
    `read(path)`.

    :raises SettingsError: `read` raised one of `errors`: its one line, behind the variable's name (any other
        error is raised as it is, for the setting's declaration to word).
    """
    path = raw.strip()
    if not path:
        return None
    held = pinned(variable, path)
    if held is not None:
        return held
    try:
        return read(path)
    except errors as error:
        raise SettingsError(f"{variable}: {error}") from None
