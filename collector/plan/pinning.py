"""The plan gunicorn's master compiled, inherited by the workers it forks: they never read the plan file.

A worker builds its app (and reads its settings) when it starts, which is
not only at a SIGHUP: a worker recycled by `max_requests`, or restarted after
a crash or a failed fsync, starts at any time. Were it to read the plan file
then, an edited file would take effect in one worker without a reload, and a
file broken mid-edit would stop that worker from booting, which makes
gunicorn halt the whole service. So the master reads the file (at start and on
each SIGHUP, collector/server/startup.py) and pins the plan it compiled here;
the workers, forked from it, find the plan pinned for the same path and take
it as it is. A process that pinned nothing (the CLI, the tests) reads the file.
"""

from __future__ import annotations

from .compiled import TrackingPlan

_pinned: TrackingPlan | None = None


def pin(plan: TrackingPlan | None) -> None:
    """Keep `plan` (None: none) as the plan of this process and of the workers it forks."""
    global _pinned
    _pinned = plan


def unpin() -> TrackingPlan | None:
    """Forget the pinned plan, so that the next reading of the settings reads the file again; the plan it was."""
    global _pinned
    plan, _pinned = _pinned, None
    return plan


def pinned(source: str) -> TrackingPlan | None:
    """The plan pinned for the file `source`, if one is."""
    return _pinned if _pinned is not None and _pinned.source == source else None
