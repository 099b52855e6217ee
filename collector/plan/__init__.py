"""The tracking plan: each event type's JSON Schemas, loaded and checked once, then every event checked against them.

`load_plan(path)` reads and compiles a plan file (or raises `PlanError`, one
line naming the file and the JSON pointer of the fault); `plan.check(event)`
gives the event's violations, each a JSON pointer within the event and a
short message. See docs/tracking-plan.md.
"""

from .compiled import MAX_VIOLATIONS, TrackingPlan
from .loading import PlanError, load_plan, plan_from_text
from .messages import Violation, by_path

__all__ = ["MAX_VIOLATIONS", "PlanError", "TrackingPlan", "Violation", "by_path", "load_plan", "plan_from_text"]
