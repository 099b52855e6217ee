"""One erasure over a data directory: event files, dead letters, idempotency state, torn lines, the console.

In this order, each step safe to stop at and to run again:

1. Under the maintenance turn (`store.maintenance.turn`, which compression
   and retention take too): what a crashed compression or erasure left is
   cleaned up (an original beside its `.gz`, hidden temporary files).
2. Open files: those of dead processes are finished (repaired as a starting
   worker would); the running workers are asked to finish theirs
   (`store.finishing`) and waited for. An open file a live worker still
   holds is never rewritten: if it holds the person's events it is named in
   the report as not reached, and the erasure is incomplete (exit 1).
3. Every finished file is read; one holding the person's events is rewritten
   without them (`rewrite.py`), under the maintenance turn, one file at a
   time, so that compression and retention wait a file's time at most.
4. Dead letters (`letters.py`), the idempotency state's rows of the erased
   events (SQLite, and memcached when the settings put it there), torn lines
   in `quarantine/` that name the person.
5. The store's generation is bumped (the console reads the store again), and
   the audit log gets its line (each file was journaled just before its
   rewrite, so that a run killed before its line is not lost to the log).

A crash anywhere leaves every file old or new (see `rewrite.py`), and a second
run does what is left: it finds the person's events where they still are.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from ..idempotency.state import FILE_NAME as IDEMPOTENCY_FILE
from ..idempotency.state import STATE_ERRORS, MemcachedState, SQLiteState
from ..store import datafiles, finishing, generation, maintenance, reading
from . import audit, blocks, letters, rewrite
from .matching import Matcher
from .transform import LineTransform

# How long the workers get to finish their open files (each does at its next request or tick).
FINISH_SECONDS = 30.0


@dataclasses.dataclass
class Report:
    """What an erasure did (or, dry, would do)."""

    files: dict[str, int] = dataclasses.field(default_factory=dict)  # file name -> the person's events there
    removed: list[str] = dataclasses.field(default_factory=list)  # files left with no events, so removed
    dead_letters: int = 0
    idempotency_rows: int = 0
    torn_files: int = 0
    not_reached: list[str] = dataclasses.field(default_factory=list)  # live open files holding their events
    workers_asked: int = 0

    @property
    def events(self) -> int:
        return sum(self.files.values())

    @property
    def complete(self) -> bool:
        return not self.not_reached


class Erasure:
    """Forget (or anonymise, given a `key`) one person's data in `data_dir`; call it holding `lock.held`."""

    def __init__(
        self, data_dir: Path, matcher: Matcher, key: bytes | None = None, dry_run: bool = False,
        step: Callable[[str], None] = lambda name: None, finish_seconds: float = FINISH_SECONDS,
        memcached: MemcachedState | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.matcher = matcher
        self.dry_run = dry_run
        self.transform = LineTransform(matcher, key)
        self.step = step  # called between the steps of each rewrite: tests crash there
        self.finish_seconds = finish_seconds
        self.memcached = memcached  # the idempotency state, when the settings put it in memcached
        self.open_at_start: set[str] = set()  # the live workers' open files when they were asked to finish

    def run(self) -> Report:
        report = Report()
        if not self.dry_run:
            with maintenance.turn(self.data_dir):
                maintenance.clean_up(self.data_dir)
                for leftover in rewrite.leftovers(self.data_dir):
                    leftover.unlink(missing_ok=True)
            self._finish_open_files(report)
        for path in datafiles.data_files(self.data_dir):
            self._erase_file(path, report)
        report.dead_letters = letters.erase(self.data_dir, self.matcher, self.dry_run)
        report.idempotency_rows = self._erase_idempotency(report)
        report.torn_files = self._erase_torn()
        if not self.dry_run:
            # Even when this run found nothing: a run killed after its rewrites, before this
            # bump, left the console holding what it erased; the run after it finishes the job.
            generation.bump(self.data_dir)
        return report

    def _finish_open_files(self, report: Report) -> None:
        datafiles.recover_abandoned(self.data_dir, sync=True)
        live = finishing.open_files(self.data_dir)
        self.open_at_start = {path.name for path in live}
        if live:
            report.workers_asked = finishing.ask_workers_to_finish(self.data_dir)
            finishing.wait_for_finished(self.data_dir, live, self.finish_seconds)

    def _erase_file(self, listed: Path, report: Report) -> None:
        try:
            found = self._count(listed)
        except reading.UNREADABLE as error:
            # Damaged: what it holds cannot be known, nor rewritten whole. `verify` says more.
            report.not_reached.append(f"{listed.name} (cannot be read: {reading.unreadable(error)})")
            return
        if not found:
            return
        if self.dry_run:
            report.files[listed.name] = found
            return
        with maintenance.turn(self.data_dir):
            path = _current_name(listed)
            if path is None:
                return  # expired by retention since listed
            if path.name.endswith(datafiles.OPEN_SUFFIX):
                # A live worker's: never rewritten under it. One opened since the workers were asked
                # holds events that arrived after the erasure began: new ones, not the erasure's.
                if path.name in self.open_at_start:
                    report.not_reached.append(path.name)
                return
            audit.note(self.data_dir, path.name, found)  # before: a kill during the rewrite is not lost to the log
            done = rewrite.rewrite(path, self.transform, self.step)
            report.files[path.name] = done.dropped + done.changed
            if done.removed:
                report.removed.append(path.name)

    def _count(self, path: Path) -> int:
        """The person's events in one file (read only); a file gone since listed holds none."""
        try:
            with datafiles.open_data_file(path) as stream:
                return sum(self.transform.count(block) for block in blocks.whole_line_blocks(stream))
        except FileNotFoundError:
            return 0

    def _erase_idempotency(self, report: Report) -> int:
        event_ids, ping_ids = sorted(self.transform.event_ids), self.transform.ping_ids
        count = 0
        if self.memcached is not None:
            try:
                count += self.memcached.forget(event_ids, ping_ids, self.dry_run)
            except STATE_ERRORS as error:
                report.not_reached.append(f"the idempotency state in memcached ({error})")
        if not (self.data_dir / IDEMPOTENCY_FILE).exists():
            return count
        state = SQLiteState(self.data_dir, window_seconds=1.0, timeout=10.0)
        try:
            return count + state.forget(event_ids, ping_ids, self.dry_run)
        finally:
            state.close()

    def _erase_torn(self) -> int:
        """Torn last lines cut at start-up (never acknowledged) that hold one of the ids: removed whole."""
        torn = [path for path in (self.data_dir / datafiles.QUARANTINE_DIR).glob("*.torn")
                if self.matcher.holds_any(path.read_bytes())]
        if not self.dry_run:
            for path in torn:
                path.unlink(missing_ok=True)
        return len(torn)


def _current_name(listed: Path) -> Path | None:
    """Where a listed file is now: finished, or compressed, since it was listed; None if expired."""
    names = [listed]
    if listed.name.endswith(datafiles.OPEN_SUFFIX):
        names.append(datafiles.finished_path(listed))
    if names[-1].name.endswith(datafiles.FINISHED_SUFFIX):
        names.append(names[-1].with_name(names[-1].name + ".gz"))
    return next((path for path in names if path.exists()), None)
