"""Reading the declared settings: from the environment (or overrides) into one checked `Settings`.

This module is the only place that reads the environment. A bad value raises
`SettingsError` with one line naming the variable and what it accepts; a
secret's value (and a URI's `user:password@`) is never part of that line, since
it ends up in the journal.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import places
from .checks import check_combinations
from .declared import Settings, declarations
from .declaring import PREFIX, Setting
from .error import SettingsError

# The `user:password@` of a URI, never echoed in a message (no setting takes one).
_USER_INFO = re.compile(r"//[^/@\s]*@")


def load_settings(
    environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> Settings:
    """Read every setting from `environ` (default: the process environment).

    `overrides` maps field names to raw strings (parsed like the variable) or
    already-typed values (taken as they are); tests use it instead of touching
    the environment.

    :raises SettingsError: naming the first variable with a bad value, or the
        first combination of values that cannot run together.
    :raises TypeError: for an override that names no setting.
    """
    environ = os.environ if environ is None else environ
    overrides = overrides or {}
    unknown = set(overrides) - {setting.name for setting in declarations()}
    if unknown:
        raise TypeError(f"no such setting: {', '.join(sorted(unknown))}")
    parsed = {
        setting.name: _read(setting, overrides.get(setting.name, environ.get(setting.env, setting.default)))
        for setting in declarations()
    }
    if not parsed["host_name"]:
        parsed["host_name"] = places.machine_host_name()
    settings = Settings(**parsed)
    check_combinations(settings)
    return settings


def data_dir_to_read(environ: Mapping[str, str] | None = None) -> Path:
    """COLLECTOR_DATA_DIR for the tools that only read the store (`collector events`).

    Only that variable is read, and the directory need not be writable: an
    operator reads the store as another user than the service, and a bad value
    of some other setting must not stop them from reading it.
    :raises SettingsError: an empty value.
    """
    environ = os.environ if environ is None else environ
    setting = next(setting for setting in declarations() if setting.name == "data_dir")
    raw = environ.get(setting.env, setting.default)
    if not raw.strip():
        raise SettingsError(f"{setting.env}={raw!r} is not valid: expected a directory path")
    return Path(raw.strip())


def plan_file_to_read(environ: Mapping[str, str] | None = None) -> Path | None:
    """COLLECTOR_TRACKING_PLAN's file for `collector plan check`; None when empty.

    Only that variable is read, as `data_dir_to_read` reads only its own: a team
    checks a plan (in CI, on another machine) without the service's other settings.
    """
    environ = os.environ if environ is None else environ
    raw = environ.get(PREFIX + "TRACKING_PLAN", "").strip()
    return Path(raw) if raw else None


def suppressed_ids_file_to_read(environ: Mapping[str, str] | None = None) -> Path | None:
    """COLLECTOR_SUPPRESSED_IDS_FILE's path for `collector events forget --suppress`, which appends to it; None
    when empty.

    Only that variable is read, as `data_dir_to_read` reads only its own: an erasure must not be stopped by a
    bad value of some other setting, nor by the file itself (it may not exist yet, or be the broken file the
    service refused at its last reload).
    """
    environ = os.environ if environ is None else environ
    raw = environ.get(PREFIX + "SUPPRESSED_IDS_FILE", "").strip()
    return Path(raw) if raw else None


def _read(setting: Setting, raw: Any) -> Any:
    if not isinstance(raw, str):
        return raw
    try:
        return setting.parse(raw)
    except SettingsError:  # a parser that words its own line (the tracking plan's)
        raise
    except ValueError as error:
        shown = "(not shown)" if setting.secret else repr(_USER_INFO.sub("//(not shown)@", raw))
        raise SettingsError(f"{setting.env}={shown} is not valid: expected {error}") from None
