"""`collector plan infer|check`: draft a tracking plan from the stored events, and see what a plan would do to them."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from ..plan import PlanError, load_plan
from ..plan.inference import Inference
from ..plan.review import Review, review
from ..settings import plan_file_to_read
from ..store import reading
from .output import Skipped, add_data_dir, table, time_argument


def add_commands(commands: Any) -> None:
    """Add `plan infer|check` to the subcommands `commands` of the `collector` parser."""
    group = commands.add_parser(
        "plan",
        help="draft a tracking plan, check stored events against one",
        description="Draft a tracking plan from the stored events, and see what a plan would do to them.",
    )
    actions = group.add_subparsers(title="commands")
    group.set_defaults(run=lambda args, out: group.print_help(out) or 2)
    infer = actions.add_parser(
        "infer",
        help="print a plan drafted from the stored events (JSON)",
        description="Print on stdout a tracking plan drafted from the stored events, in the plan file format (JSON): "
        "the types seen, each property's type and format, required properties, enums of few values. Edit it, "
        "then `collector plan check`.",
    )
    infer.add_argument(
        "--min-share",
        type=share,
        default=0.95,
        help="required: present in at least this share of the type's events (default 0.95)",
    )
    infer.set_defaults(run=run_infer)
    check = actions.add_parser(
        "check",
        help="count the stored events a plan would flag or refuse; exit 1 if any",
        description="Check the stored events against a plan: per type and JSON pointer, how many events break it, "
        "with one example each. Exits 1 if any event breaks the plan, 2 if the plan itself is bad.",
    )
    check.add_argument(
        "--plan", type=Path, metavar="FILE", help="the plan file (default: COLLECTOR_TRACKING_PLAN, the service's)"
    )
    check.add_argument("--json", action="store_true", help="print one JSON object instead, for scripts")
    check.set_defaults(run=run_check)
    for command in (infer, check):
        command.add_argument(
            "--since",
            type=time_argument,
            help="only events received at or after this time (RFC 3339 or a date; UTC if no offset)",
        )
        add_data_dir(command)


def share(text: str) -> float:
    """An argparse `type=` for `--min-share`."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"expected a share greater than 0 and at most 1 (e.g. 0.95), not {text!r}")
    return value


def _events(args: argparse.Namespace, skipped: Skipped) -> Iterator[dict[str, Any]]:
    since = args.since if args.since is not None else float("-inf")
    for _, event in reading.events_in_time_order(args.data_dir, on_problem=skipped.warn):
        if reading.parse_time(event["receivedAt"]) >= since:
            yield event


def run_infer(args: argparse.Namespace, out: TextIO) -> int:
    skipped = Skipped()
    inference = Inference(args.min_share)
    for event in _events(args, skipped):
        inference.add(event)
    if not inference.events:
        print("collector: no stored events to draft a plan from", file=sys.stderr)
        return 1
    json.dump(inference.draft(), out, indent=2, ensure_ascii=False)
    print(file=out)
    out.flush()
    return skipped.exit_status()


def run_check(args: argparse.Namespace, out: TextIO) -> int:
    path = args.plan if args.plan is not None else plan_file_to_read()
    if path is None:
        print("collector: no tracking plan to check: give --plan FILE, or set COLLECTOR_TRACKING_PLAN", file=sys.stderr)
        return 2
    try:
        plan = load_plan(path)
    except PlanError as error:
        print(f"collector: {error}", file=sys.stderr)
        return 2
    skipped = Skipped()
    found = review(plan, _events(args, skipped))
    if args.json:
        print(json.dumps(_summary(found)), file=out)
    else:
        _print_review(found, out)
    out.flush()
    return 1 if found.breaking else skipped.exit_status()


def _print_review(found: Review, out: TextIO) -> None:
    rows = [(f.event_type, f.path, str(f.events), f"{f.message} (eventId {f.event_id})") for f in found.in_order()]
    if rows:
        table(out, ("type", "path", "events", "example"), rows)
    summary = f"{found.breaking} of {found.events} events break the plan"
    if found.breaking:
        summary += (
            f": flag mode stores them flagged; refuse mode would refuse {len(found.requests)} "
            f"request{'' if len(found.requests) == 1 else 's'} (each with all its events)"
        )
    print(summary, file=out)


def _summary(found: Review) -> dict[str, Any]:
    findings = [
        {
            "eventType": f.event_type,
            "path": f.path,
            "events": f.events,
            "example": {"message": f.message, "eventId": f.event_id},
        }
        for f in found.in_order()
    ]
    return {"events": found.events, "breaking": found.breaking, "requests": len(found.requests), "findings": findings}
