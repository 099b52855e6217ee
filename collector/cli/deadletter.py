"""`collector deadletter list|replay`: the rejected requests kept with COLLECTOR_DEAD_LETTER=on."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Callable
from typing import Any, TextIO

from .. import jsontext
from ..deadletters import letters as deadletters
from ..deadletters.replay import replay
from ..settings import load_settings
from ..store.reading import parse_time
from .output import add_data_dir, not_the_owner


def add_commands(commands: Any, time_type: Callable[[str], float]) -> None:
    """Add `deadletter list|replay` to the subcommands `commands` of the `collector` parser."""
    group = commands.add_parser(
        "deadletter", help="list and replay rejected requests", description="Rejected requests kept as dead letters."
    )
    group.set_defaults(run=lambda args, out: group.print_help(out) or 2)
    actions = group.add_subparsers(title="commands")
    listing = actions.add_parser(
        "list", help="print the dead letters", description="Print every dead letter, oldest first."
    )
    listing.add_argument("--since", type=time_type, help="only those received at or after this time")
    listing.add_argument("--json", action="store_true", help="one JSON object per line, body included")
    listing.set_defaults(run=run_list)
    replaying = actions.add_parser(
        "replay",
        help="store the dead letters that pass today's checks, never twice",
        description="Send every dead letter through validation again with the current settings (e.g. a newly "
        "allowed event type) and store those that pass. Letters whose client was told to resend (409, 503) are "
        "never replayed, and nothing already stored (by its Idempotency-Key, or by write key and eventId) is "
        "stored again. One replay at a time: a second one exits 75.",
    )
    replaying.add_argument("--since", type=time_type, help="only those received at or after this time")
    replaying.set_defaults(run=run_replay)
    for command in (listing, replaying):
        add_data_dir(command)


def run_list(args: argparse.Namespace, out: TextIO) -> int:
    letters = [
        letter
        for letter in deadletters.read(args.data_dir)
        if args.since is None or parse_time(letter["receivedAt"]) >= args.since
    ]
    if args.json:
        for letter in letters:
            out.write(jsontext.dumps_line(letter).decode())
        out.flush()
        return 0
    done = deadletters.replayed_ids(args.data_dir)
    for letter in letters:
        replayed = " (replayed)" if letter["id"] in done else ""
        print(
            f"{letter['receivedAt']}  {letter['status']} {letter['code']:<22} {letter['bodyBytes']:>7} bytes  "
            f"{letter['id']}{replayed}\n    {letter['message']}",
            file=out,
        )
    print(f"{len(letters)} dead letter{'s' if len(letters) != 1 else ''}", file=out)
    out.flush()
    return 0


# What `deadletter replay` exits with while another replay runs: EX_TEMPFAIL, try again later.
EXIT_REPLAY_RUNNING = 75


def run_replay(args: argparse.Namespace, out: TextIO) -> int:
    if not_the_owner(args.data_dir):
        return 2
    settings = load_settings()  # today's rules: the allow-list, the limits
    if settings.data_dir.resolve() != args.data_dir.resolve():
        settings = load_settings(overrides={"data_dir": args.data_dir})
    try:
        report = replay(settings, since=args.since)
    except deadletters.ReplayRunning as running:
        print(f"collector: {running}; nothing was replayed, try again when it has finished", file=sys.stderr)
        return EXIT_REPLAY_RUNNING
    for letter_id, ping_id, events in report.stored:
        print(f"stored {letter_id}: {events} event{'s' if events != 1 else ''}, pingId {ping_id}", file=out)
    for letter_id, why in report.not_replayable:
        print(f"collector: cannot replay {letter_id}: {why}", file=sys.stderr)
    rejected = _counts(report.refused)
    if report.duplicates:
        print(f"{report.duplicates} events of these letters were stored already: not stored again", file=out)
    print(
        f"{len(report.stored)} stored, {report.already} already replayed, {report.already_stored} already stored, "
        f"still rejected: {rejected}, never replayed: {_counts(report.never)}, "
        f"{len(report.not_replayable)} not replayable",
        file=out,
    )
    out.flush()
    return 1 if report.not_replayable else 0


def _counts(per_code: Counter) -> str:
    return ", ".join(f"{count} {code}" for code, count in sorted(per_code.items())) or "none"
