"""COLLECTOR_SUPPRESSED_IDS_FILE: the people who asked never to be collected again, by id.

The file holds one id per line (blank lines and lines starting with `#` are
skipped; each line's surrounding whitespace is not part of its id), matched
exactly against the `userId` and `anonymousId` of every event. A request that
carries one is refused whole (ingest/suppresscheck.py).

The ids are kept in memory as they are written, in a frozenset: the file
itself has to hold them in clear (an operator reads and edits it, `forget
--suppress` appends to it), so keyed hashes in memory would hide nothing from
anyone who can read the service's memory (the key would sit beside them, and
the file on the disk), while costing a hash per event and a key to keep alike
across workers.

Read by gunicorn's master only, at start and on each SIGHUP, as the tracking
plan is (collector/settings/pinned.py says why): the master pins the list it read
here, and the workers it forks take the pinned list for the same file instead
of reading it, so an edited file takes effect in every worker at the next
reload and never in one worker alone, and a file broken mid-edit never stops
a worker from booting.
"""

from __future__ import annotations

import dataclasses
import fcntl
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

# The most ids a file may hold: about 120 MB of memory in the master at 36-character ids (a UUID),
# shared with the workers it forks; a team's erasure requests stay far below it.
MOST_IDS = 1_000_000
# The schemas accept a userId or anonymousId of at most 256 characters: a longer id could never
# match, so a file holding one is a mistake (a line pasted whole), refused.
LONGEST_ID = 256
FIELDS = ("userId", "anonymousId")
COMMENT = "#"


class SuppressedIdsError(ValueError):
    """The file cannot be read, or breaks a bound: one line naming it (and the line at fault)."""


@dataclasses.dataclass(frozen=True)
class SuppressedIds:
    """The ids of one file, as read at start-up (or at the last reload)."""

    source: str
    ids: frozenset[str]

    def __len__(self) -> int:
        return len(self.ids)

    def first_match(self, events: Sequence[Mapping[str, object]]) -> tuple[int, str] | None:
        """The index and field (`userId` or `anonymousId`) of the first event carrying a listed id."""
        ids = self.ids
        for index, event in enumerate(events):
            for field in FIELDS:
                value = event.get(field)
                if isinstance(value, str) and value in ids:
                    return index, field
        return None


def read_ids(path: str | Path) -> SuppressedIds:
    """The ids of the file at `path`.

    :raises SuppressedIdsError: unreadable, not UTF-8, an id over LONGEST_ID or more than MOST_IDS ids.
    """
    try:
        with open(path, encoding="utf-8", newline="\n") as lines:
            ids = parse_lines(lines, str(path))
    except OSError as error:
        raise SuppressedIdsError(f"{path}: cannot be read ({error.strerror or error})") from None
    except UnicodeDecodeError:
        raise SuppressedIdsError(f"{path}: not UTF-8 text") from None
    return SuppressedIds(str(path), ids)


def parse_lines(lines: Iterable[str], where: str) -> frozenset[str]:
    """The ids of `lines` (a file's), bounds checked as they come, so a huge file is refused early.

    :raises SuppressedIdsError: naming `where` and the line at fault.
    """
    ids: set[str] = set()
    for number, line in enumerate(lines, start=1):
        problem = id_problem(line.strip())
        if problem == "comment":
            continue
        if problem is not None:
            raise SuppressedIdsError(f"{where}: line {number}: {problem}")
        ids.add(line.strip())
        if len(ids) > MOST_IDS:
            raise SuppressedIdsError(f"{where}: more than {MOST_IDS} ids")
    return frozenset(ids)


def id_problem(line: str) -> str | None:
    """Why a stripped line is no id ("comment" for a blank or comment line); None for an id."""
    if not line or line.startswith(COMMENT):
        return "comment"
    if len(line) > LONGEST_ID:
        # Not echoed: the id is a person's, and this line goes to the journal.
        return f"an id longer than {LONGEST_ID} characters (the longest userId or anonymousId accepted)"
    return None


def append_suppressed(path: str | Path, ids: Iterable[str]) -> int:
    """Add `ids` to the file at `path` (made if missing), keeping its lines and comments; how many were new.

    For `collector events forget --suppress`. The file is replaced whole (a new file beside it with the old
    lines and the new ids, fsynced, renamed over it, the directory fsynced), so that the service's master,
    reading it at a SIGHUP, reads the old list or the new one, never half of one. Two appends at once are
    serialised by a lock on the directory, so neither loses the other's ids. The service takes the new ids
    at its next reload (`systemctl reload collector`).

    :raises ValueError: an id this file cannot hold (empty, starting with `#`, surrounded by whitespace,
        over LONGEST_ID, holding a line break), or the file would pass MOST_IDS.
    :raises SuppressedIdsError: the file is there but cannot be read, or breaks a bound already.
    """
    path = Path(path)
    new = _checked_new_ids(ids)
    directory = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(directory, fcntl.LOCK_EX)  # released when the descriptor closes
        old_text = _old_text(path)
        present = parse_lines(old_text.split("\n"), str(path))  # as read_ids splits it: at "\n" only
        added = [one for one in dict.fromkeys(new) if one not in present]
        if not added:
            return 0
        if len(present) + len(added) > MOST_IDS:
            raise ValueError(f"{path} would hold more than {MOST_IDS} ids")
        if old_text and not old_text.endswith("\n"):
            old_text += "\n"
        _replace(path, old_text + "".join(one + "\n" for one in added), directory)
        return len(added)
    finally:
        os.close(directory)


def _checked_new_ids(ids: Iterable[str]) -> list[str]:
    new = list(ids)
    for place, one in enumerate(new, start=1):
        # Each must read back as itself: a line's whitespace is stripped, `#` starts a comment.
        problem = id_problem(one) if one == one.strip() and "\n" not in one and "\r" not in one else "whitespace"
        if problem == "comment":
            problem = "empty, or starting with '#' (a comment in the file)"
        if problem == "whitespace":
            problem = "surrounded by whitespace, or holding a line break"
        if problem is not None:
            raise ValueError(f"id {place} of {len(new)} cannot be listed: {problem}")
    return new


def _old_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    except OSError as error:
        raise SuppressedIdsError(f"{path}: cannot be read ({error.strerror or error})") from None
    except UnicodeDecodeError:
        raise SuppressedIdsError(f"{path}: not UTF-8 text") from None


def _replace(path: Path, text: str, directory: int) -> None:
    """Write `text` to a new file beside `path` (its owner and mode kept), fsync it, rename it over `path`."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        stat = path.stat()
    except FileNotFoundError:
        stat = None
    try:
        with open(temporary, "w", encoding="utf-8", newline="\n") as file:
            if stat is not None:
                # The service reads the file as its own user: the new one must stay readable to it.
                os.fchmod(file.fileno(), stat.st_mode & 0o7777)
                if (stat.st_uid, stat.st_gid) != (os.getuid(), os.getgid()):
                    os.fchown(file.fileno(), stat.st_uid, stat.st_gid)
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    os.fsync(directory)
