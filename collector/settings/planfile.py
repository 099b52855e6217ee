"""COLLECTOR_TRACKING_PLAN: the tracking plan file, compiled once when the settings are read.

A bad plan is a bad setting: it stops start-up (and `collector settings`)
with `load_plan`'s one line (the file, the JSON pointer of the fault, why),
behind the variable's name. See docs/tracking-plan.md.
"""

from __future__ import annotations

from typing import Any

from . import pinned
from .values import EMPTY

VARIABLE = "COLLECTOR_TRACKING_PLAN"


def tracking_plan(raw: str) -> Any:
    """The compiled plan of the file named by `raw`; None when empty (no plan); in a worker, its master's
    (see pinned.py).

    :raises SettingsError: the file cannot be read or is not a good plan, in one line.
    """
    # Imported here: collector.plan imports collector.settings (the eventType rule).
    from ..plan import PlanError, load_plan

    return pinned.read_file(VARIABLE, raw, load_plan, PlanError)


def show_plan(plan: Any) -> str:
    """A plan shown as the file it was read from."""
    return EMPTY if plan is None else str(plan.source)
