from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from collector.erasure import Ids, Matcher, audit
from collector.erasure.run import Erasure
from collector.idempotency.state import SQLiteState
from collector.store import datafiles, generation, maintenance
from tests.processes import ROOT
from tests.unit.erasure.helpers import GONE, KEPT, event, lines_of, name, write


def erase(data_dir, **options):
    return Erasure(data_dir, Matcher(Ids.of(user=[GONE])), **options).run()


def every_line(data_dir):
    return sorted(line for path in datafiles.data_files(data_dir) for line in lines_of(path))


@pytest.fixture
def store(tmp_path):
    """A stopped service's store: finished plain and gz files, and a dead worker's open file."""
    data = tmp_path / "data"
    data.mkdir()
    write(data / name(1, ".jsonl.gz"), [event(1), event(2, GONE), event(3)])
    write(data / name(2), [event(4, GONE), event(5, GONE)])
    write(data / name(3), [event(6)])
    write(data / name(4, ".jsonl.open"), [event(7, GONE), event(8)])
    return data


OTHERS = sorted([event(1), event(3), event(6), event(8)])


def test_every_file_plain_gz_and_a_dead_workers_open_one_loses_the_persons_events_only(store):
    report = erase(store)
    assert report.files == {name(1, ".jsonl.gz"): 1, name(2): 2, name(4): 1}
    assert report.events == 4 and report.complete
    assert every_line(store) == OTHERS
    assert not (store / name(2)).exists()  # left with no events: removed
    assert report.removed == [name(2)]
    assert generation.read(store) == 1  # the console reads the store again


def test_a_dry_run_reports_the_same_counts_and_changes_nothing(store):
    before = {path.name: path.read_bytes() for path in store.iterdir()}
    dry = erase(store, dry_run=True)
    assert {path.name: path.read_bytes() for path in store.iterdir()} == before
    assert generation.read(store) == 0
    done = erase(store)
    assert dry.events == done.events == 4
    assert sum(dry.files.values()) == sum(done.files.values())


def test_anonymising_keeps_every_event_with_the_id_hashed_alike_and_no_address(store):
    report = erase(store, key=b"k" * 32)
    assert report.events == 4
    lines = every_line(store)
    assert len(lines) == 8
    import orjson

    events = [orjson.loads(line) for line in lines]
    theirs = [e for e in events if e["userId"] != KEPT]
    assert len(theirs) == 4 and len({e["userId"] for e in theirs}) == 1
    assert theirs[0]["userId"].startswith("hmac:") and GONE.encode() not in b"".join(lines)
    assert all(e["client"]["ip"] is None for e in theirs)
    assert all(e["client"]["ip"] == "203.0.113.7" for e in events if e["userId"] == KEPT)
    assert erase(store, key=b"k" * 32).events == 0  # done: nothing of theirs is left to find


def test_a_live_workers_open_file_is_never_rewritten_and_the_erasure_says_it_is_incomplete(store):
    import fcntl

    held = store / name(4, ".jsonl.open")
    fd = os.open(held, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)  # as its live writer holds it
    try:
        report = erase(store)
    finally:
        os.close(fd)
    assert report.not_reached == [held.name] and not report.complete
    assert lines_of(held) == [event(7, GONE), event(8)]
    assert erase(store).complete  # the writer gone, a second run finishes it


def test_an_original_left_beside_its_gz_by_a_crashed_compression_is_not_left_holding_the_person(store):
    write(store / name(1), [event(1), event(2, GONE), event(3)])  # beside name(1).gz
    erase(store)
    assert not (store / name(1)).exists()
    assert GONE.encode() not in b"".join(every_line(store))


def test_a_file_compressed_between_listing_and_rewriting_is_rewritten_under_its_new_name(store, monkeypatch):
    real = maintenance.turn

    def compress_first(data_dir):
        plain = store / name(2)
        if plain.exists():
            maintenance.compress_file(plain)
        return real(data_dir)

    monkeypatch.setattr(maintenance, "turn", compress_first)
    report = erase(store)
    assert report.events == 4 and every_line(store) == OTHERS


def test_the_idempotency_rows_of_the_erased_events_go(store):
    state = SQLiteState(store, window_seconds=3600)
    state.record_events(["e-2", "e-4", "e-1"])
    state.complete("key-of-2", "f", b'{"value": "{\\"pingId\\": \\"00000000-0000-4000-8000-000000000002\\"}"}')
    state.complete("key-of-1", "f", b'{"value": "{\\"pingId\\": \\"00000000-0000-4000-8000-000000000001\\"}"}')
    report = erase(store)
    assert report.idempotency_rows == 3
    assert state.stored_events(["e-1", "e-2", "e-4"]) == {"e-1"}
    assert state.claim("key-of-2", "f").outcome == "claimed"
    assert state.claim("key-of-1", "f").outcome == "done"
    state.close()


def test_torn_lines_in_quarantine_that_name_the_person_are_removed(store):
    quarantine = store / "quarantine"
    quarantine.mkdir()
    (quarantine / "a.torn").write_bytes(event(9, GONE)[:40] + b'"' + GONE.encode())
    (quarantine / "b.torn").write_bytes(event(10)[:60])
    assert erase(store).torn_files == 1
    assert [p.name for p in quarantine.iterdir()] == ["b.torn"]


CRASHING = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from collector.erasure import Ids, Matcher, audit
    from collector.erasure.run import Erasure

    at, nth = sys.argv[2], int(sys.argv[3])
    seen = []

    def step(name):
        seen.append(name)
        if name == at and seen.count(at) == nth:
            os.kill(os.getpid(), signal.SIGKILL)

    Erasure(Path(sys.argv[1]), Matcher(Ids.of(user=["u-gone"])), step=step).run()
""")


@pytest.mark.parametrize("nth", [1, 2])
@pytest.mark.parametrize("at", ["written", "verified", "replaced", "synced", "removed"])
def test_killed_at_any_step_a_second_erasure_finishes_and_nothing_else_is_lost_or_doubled(store, at, nth):
    done = subprocess.run([sys.executable, "-c", CRASHING, str(store), at, str(nth)], cwd=ROOT)
    assert done.returncode in (-signal.SIGKILL, 0)  # 0: that step did not come nth time
    left = every_line(store)
    assert [line for line in left if GONE.encode() not in line] == OTHERS  # never both, never neither
    done_before = audit.cut_short(store)
    erase(store)
    assert every_line(store) == OTHERS
    assert not [path for path in store.iterdir() if path.name.startswith(".events-")]
    if done.returncode != 0:
        # What the killed run was doing is journaled, for the audit line of the run that finishes.
        assert done_before is not None and set(done_before["files"]) <= {name(1, ".jsonl.gz"), name(2), name(4)}


def test_a_run_that_finds_nothing_still_tells_the_console_to_read_again(store):
    # The run before it may have been killed between its rewrites and telling the console.
    erase(store)
    assert erase(store).events == 0
    assert generation.read(store) == 2


def test_compression_starting_during_a_rewrite_waits_for_it_and_never_brings_the_person_back(store):
    import threading

    compressor = threading.Thread(target=maintenance.Maintenance(store, compress="gzip").run_once)
    steps = []

    def compress_now(step: str) -> None:
        steps.append(step)
        if steps.count("written") == 2 and compressor.ident is None:  # name(2), plain, its new copy written
            compressor.start()
            # A chance for it to compress the old file under the rewrite, were it not to wait for its turn
            # (nothing is asserted of the time: a slow machine makes the test weaker, never wrong).
            compressor.join(timeout=1.0)

    Erasure(store, Matcher(Ids.of(user=[GONE])), step=compress_now).run()
    compressor.join()
    assert every_line(store) == OTHERS
    assert all(path.name.endswith(".gz") for path in datafiles.data_files(store))


def test_a_file_a_worker_opened_after_the_erasure_began_holds_new_events_not_the_erasures(store, monkeypatch):
    import fcntl

    from collector.store import finishing

    later = write(store / name(9, ".jsonl.open"), [event(90, GONE)])
    fd = os.open(later, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)  # its live writer
    monkeypatch.setattr(finishing, "open_files", lambda data_dir: [])  # not there when the workers were asked
    try:
        report = erase(store)
    finally:
        os.close(fd)
    assert report.complete and report.events == 4
    assert lines_of(later) == [event(90, GONE)]
