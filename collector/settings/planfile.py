"""COLLECTOR_TRACKING_PLAN: the tracking plan file, compiled once when the settings are read.

A bad plan is a bad setting: it stops start-up (and `collector settings`)
with `load_plan`'s one line (the file, the JSON pointer of the fault, why),
behind the variable's name. See docs/tracking-plan.md.
"""

from __future__ import annotations

from typing import Any

from .error import SettingsError
from .values import EMPTY

VARIABLE = "COLLECTOR_TRACKING_PLAN"


def tracking_plan(raw: str) -> Any:
    """The compiled plan of the file named by `raw`; None when empty (no plan).

    :raises SettingsError: the file cannot be read or is not a good plan, in one line.
    """
    path = raw.strip()
    if not path:
        return None
    # Imported here: collector.plan imports collector.settings (the eventType rule).
    from ..plan import PlanError, load_plan, pinning

    # In a worker of gunicorn's master, the master's plan (see collector/plan/pinning.py).
    plan = pinning.pinned(path)
    if plan is not None:
        return plan
    try:
        return load_plan(path)
    except PlanError as error:
        raise SettingsError(f"{VARIABLE}: {error}") from None


def show_plan(plan: Any) -> str:
    """A plan shown as the file it was read from."""
    return EMPTY if plan is None else str(plan.source)
