"""`collector events forget|export`: erase, pseudonymise or export one person's stored data (docs/erasure.md)."""

from __future__ import annotations

import argparse
import contextlib
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from .. import idempotency, jsontext, suppressed
from ..erasure import Ids, Matcher, audit, export, keyed, lock
from ..erasure.run import Erasure, Report
from ..idempotency.state import MemcachedState
from ..settings import SettingsError, load_settings, suppressed_ids_file_to_read
from .output import Skipped, add_data_dir, count, not_the_owner

# As `collector deadletter replay` when one runs already: EX_TEMPFAIL, try again later.
BUSY_EXIT = 75


def add_commands(actions: Any) -> None:
    """Add `forget` and `export` to the subcommands `actions` of `collector events`."""
    forget = actions.add_parser(
        "forget",
        help="erase one person's events, dead letters and idempotency rows (or --anonymise them)",
        description="Remove every stored event that carries one of the given ids (userId, anonymousId, sessionId) "
        "from every event file, rewriting each file atomically; delete the person's dead letters and idempotency "
        "rows; log the erasure, with the ids as keyed hashes, to erasures.log in the data directory. One at a "
        "time: a second one exits 75. Exits 1 if some of the person's events could not be reached.",
    )
    forget.add_argument("--dry-run", action="store_true", help="count what would be erased; change nothing")
    forget.add_argument(
        "--anonymise", action="store_true",
        help="keep the events, with the given ids replaced by keyed hashes and client.ip null (pseudonymisation)",
    )
    forget.add_argument(
        "--suppress", action="store_true",
        help="first add the person's userIds and anonymousIds (and --ids-file ids) to COLLECTOR_SUPPRESSED_IDS_FILE, "
        "so that the service refuses them from its next reload (systemctl reload collector)",
    )
    forget.set_defaults(run=run_forget)
    access = actions.add_parser(
        "export",
        help="print one person's events, then their dead letters, as JSON lines",
        description="Print every stored event carrying one of the given ids, oldest first, then the person's "
        "dead letters, as JSON lines: what an access request asks for.",
    )
    access.set_defaults(run=run_export)
    for command in (forget, access):
        _add_ids(command)
        add_data_dir(command)


def _add_ids(command: Any) -> None:
    def many(flag: str, what: str) -> None:
        command.add_argument(flag, action="append", default=[], metavar="ID", help=f"{what} (repeat for several)")

    many("--user-id", "a userId of the person")
    many("--anonymous-id", "an anonymousId of the person")
    many("--session-id", "a sessionId of the person")
    command.add_argument(
        "--ids-file", action="append", default=[], type=Path, metavar="F",
        help="a file of ids, one per line, each looked for as userId, anonymousId and sessionId",
    )


def ids_of(args: argparse.Namespace) -> Ids:
    """The ids the options give; ids files are read as UTF-8, one id per line, blank lines skipped.

    :raises OSError: an ids file that cannot be read.
    """
    from_files = [
        line for path in args.ids_file for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    return Ids.of(args.user_id, args.anonymous_id, args.session_id, from_files)


def _ids_or_complain(args: argparse.Namespace) -> Ids | None:
    try:
        ids = ids_of(args)
    except (OSError, UnicodeDecodeError) as error:
        print(f"collector: cannot read the ids file: {error}", file=sys.stderr)
        return None
    if not ids:
        print("collector: no id given: --user-id, --anonymous-id, --session-id or --ids-file", file=sys.stderr)
        return None
    return ids


def run_forget(args: argparse.Namespace, out: TextIO) -> int:
    ids = _ids_or_complain(args)
    if ids is None:
        return 2
    try:
        lock.check_data_dir(args.data_dir)
        if not args.dry_run and not_the_owner(args.data_dir):
            return 2
        # A dry run reads only, as `export` does: it takes no lock and creates no file, not even the lock's.
        with _locked(args.data_dir) if not args.dry_run else contextlib.nullcontext():
            added = _suppress(args, ids, out) if args.suppress else None
            if added is False:
                return 2
            key = keyed.load_key(args.data_dir, create=not args.dry_run)
            earlier = audit.cut_short(args.data_dir)
            memcached = _memcached_state()
            try:
                report = Erasure(
                    args.data_dir, Matcher(ids), key if args.anonymise else None, args.dry_run, memcached=memcached
                ).run()
            finally:
                if memcached is not None:
                    memcached.close()
            if not args.dry_run and key is not None:
                entry = _entry(args, ids, key, report)
                if added is not None:
                    entry["suppressed"] = added
                audit.append(args.data_dir, {**entry, "cutShort": earlier})
                audit.close_journal(args.data_dir)
    except lock.Refused as error:
        print(f"collector: {error}", file=sys.stderr)
        return BUSY_EXIT if error.busy else 2
    except (OSError, sqlite3.Error) as error:
        # A full disk, a file that cannot be replaced, the idempotency state locked past its
        # timeout: each file is old or new, never half done, and a second run does the rest.
        print(f"collector: the erasure stopped: {error}; every file is whole (old or erased): "
              "run it again once this is fixed", file=sys.stderr)
        return 1
    _print_report(out, args, report)
    _print_hashes(out, ids, key)
    return 0 if report.complete else 1


def _suppress(args: argparse.Namespace, ids: Ids, out: TextIO) -> int | bool:
    """--suppress: add the ids the service matches (userId, anonymousId) to its suppressed-ids file, before the
    erasure, so that nothing of the person is collected again once the service reloads it. How many ids were new,
    or False (said on stderr) when the file is not set or cannot take them: then nothing is erased either.

    sessionIds are not added: the service does not match them (a session is not a person).
    """
    path = suppressed_ids_file_to_read()
    if path is None:
        print("collector: --suppress needs COLLECTOR_SUPPRESSED_IDS_FILE, the file the service reads "
              "(run forget with the service's environment, e.g. its EnvironmentFile); nothing was erased",
              file=sys.stderr)
        return False
    wanted = sorted(ids.user | ids.anonymous | ids.any_field)
    if args.dry_run:
        print(f"would add {count(len(wanted), 'id')} to {path}", file=out)
        return len(wanted)
    try:
        added = suppressed.append_suppressed(path, wanted)
    except (ValueError, OSError) as error:  # SuppressedIdsError is a ValueError
        print(f"collector: cannot add to the suppressed ids file {path}: {error}; nothing was erased",
              file=sys.stderr)
        return False
    print(f"{count(added, 'id')} added to {path}: reload the service (systemctl reload collector) for it to "
          "refuse them", file=out)
    return added


def _memcached_state() -> MemcachedState | None:
    """The idempotency state in memcached, when the service's settings put it there (read as `deadletter
    replay` reads them: run forget with the service's environment, e.g. its EnvironmentFile)."""
    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"collector: the settings do not load ({error}): an idempotency state in memcached is not reached",
              file=sys.stderr)
        return None
    state = idempotency.build(settings).state if settings.idempotency_in_memcached else None
    return state if isinstance(state, MemcachedState) else None


@contextlib.contextmanager
def _locked(data_dir: Path) -> Iterator[None]:
    with lock.held(data_dir), lock.no_replay(data_dir):
        yield


def _entry(args: argparse.Namespace, ids: Ids, key: bytes, report: Report) -> dict[str, Any]:
    return {
        "at": audit.now(),
        "action": "anonymise" if args.anonymise else "forget",
        "ids": audit.hashed_ids(ids, key),
        "events": report.events,
        "files": report.files,
        "removedFiles": report.removed,
        "deadLetters": report.dead_letters,
        "idempotencyRows": report.idempotency_rows,
        "tornFiles": report.torn_files,
        "complete": report.complete,
        "notReached": report.not_reached,
    }


def _print_report(out: TextIO, args: argparse.Namespace, report: Report) -> None:
    would = "would be " if args.dry_run else ""
    verb = would + ("anonymised" if args.anonymise else "erased")
    for name, events in report.files.items():
        print(f"{name}: {count(events, 'event')} {verb}", file=out)
    print(
        f"{verb}: {count(report.events, 'event')} from {count(len(report.files), 'file')}; {would}deleted: "
        f"{count(report.dead_letters, 'dead letter')}, {count(report.idempotency_rows, 'idempotency row')}, "
        f"{count(report.torn_files, 'quarantined torn file')}" + ("" if args.dry_run else "; logged to erasures.log"),
        file=out,
    )
    for name in report.not_reached:
        print(f"collector: NOT erased: {name} (a worker still writes it, or it is damaged); run forget again",
              file=sys.stderr)
    out.flush()


def _print_hashes(out: TextIO, ids: Ids, key: bytes | None) -> None:
    """The ids as the audit log keeps them, to look for in it (none before the first erasure made the key)."""
    if key is None:
        print("no erasure yet in this data directory: no key, so no hashes to look for", file=out)
        return
    for kind, hashes in audit.hashed_ids(ids, key).items():
        print(f"{kind} as erasures.log keeps it: {', '.join(hashes)}", file=out)
    out.flush()


def run_export(args: argparse.Namespace, out: TextIO) -> int:
    ids = _ids_or_complain(args)
    if ids is None:
        return 2
    matcher = Matcher(ids)
    skipped = Skipped()
    stream = out.buffer
    for line in export.events(args.data_dir, matcher, skipped.warn):
        stream.write(line)
    for letter in export.dead_letters(args.data_dir, matcher):
        stream.write(jsontext.dumps_line(letter))
    stream.flush()
    return skipped.exit_status()
