from __future__ import annotations

import fcntl
import os

import orjson
import pytest

from collector.deadletters.letters import DeadLetters
from collector.erasure import audit, keyed
from collector.erasure.lock import LOCK_FILE
from collector.store import datafiles
from tests.unit.cli.helpers import run
from tests.unit.erasure.helpers import GONE, KEPT, event, lines_of, name, write


@pytest.fixture
def store(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    write(data / name(1, ".jsonl.gz"), [event(1), event(2, GONE), event(3, anonymousId="a-gone")])
    write(data / name(2), [event(4, GONE), event(5, sessionId="s-gone")])
    return data


def keep_letter(data_dir, body: bytes) -> None:
    DeadLetters(data_dir, "h", 4096, 1 << 20).record(
        body=body, status=400, code="invalid_field", message="m", facts={"client": {"ip": "203.0.113.7"}}
    )


def stored(data_dir) -> list[dict]:
    return [orjson.loads(line) for path in datafiles.data_files(data_dir) for line in lines_of(path)]


def test_forget_erases_by_user_anonymous_and_session_id_and_logs_hashes_only(capsys, store):
    code, out, err = run(capsys, "events", "forget", "--user-id", GONE, "--anonymous-id", "a-gone",
                         "--session-id", "s-gone", "--data-dir", str(store))
    assert code == 0, err
    assert [e["eventId"] for e in stored(store)] == ["e-1"]
    assert "erased: 4 events from 2 files" in out
    (entry,) = audit.read(store)
    assert entry["events"] == 4 and entry["action"] == "forget" and entry["complete"]
    assert entry["files"] == {name(1, ".jsonl.gz"): 2, name(2): 2}
    assert entry["removedFiles"] == [name(2)]  # left with no events
    key = keyed.load_key(store)
    assert entry["ids"]["userId"] == [keyed.hash_id(key, GONE)]
    log = (store / "erasures.log").read_bytes()
    assert b"gone" not in log  # no id in clear
    assert (store / ".erasure.key").stat().st_mode & 0o777 == 0o600


def test_an_ids_file_matches_its_ids_in_every_field(capsys, store, tmp_path):
    ids = tmp_path / "ids.txt"
    ids.write_text(f"{GONE}\n\na-gone\r\n")
    code, _, err = run(capsys, "events", "forget", "--ids-file", str(ids), "--data-dir", str(store))
    assert code == 0, err
    assert [e["eventId"] for e in stored(store)] == ["e-1", "e-5"]


def test_a_dry_run_prints_the_same_counts_and_changes_nothing(capsys, store):
    before = {path.name: path.read_bytes() for path in store.iterdir()}
    code, dry, _ = run(capsys, "events", "forget", "--user-id", GONE, "--dry-run", "--data-dir", str(store))
    assert code == 0
    assert {path.name: path.read_bytes() for path in store.iterdir()} == before
    assert "no key" in dry
    _, done, _ = run(capsys, "events", "forget", "--user-id", GONE, "--data-dir", str(store))
    _, again, _ = run(capsys, "events", "forget", "--user-id", GONE, "--dry-run", "--data-dir", str(store))
    # The same counts, said as what would be done.
    assert [line.replace("would be ", "") for line in dry.splitlines()[:3]] == [
        line.replace("; logged to erasures.log", "") for line in done.splitlines()[:3]
    ]
    # Whether someone was erased: the dry run prints the hash to look for in the log.
    assert f"userId as erasures.log keeps it: {audit.read(store)[0]['ids']['userId'][0]}" in again


def test_anonymise_hashes_the_same_id_alike_every_time_nulls_the_address_and_keeps_counts(capsys, store):
    write(store / name(3), [event(6, GONE)])
    code, _, err = run(capsys, "events", "forget", "--user-id", GONE, "--anonymise", "--data-dir", str(store))
    assert code == 0, err
    write(store / name(4), [event(7, GONE)])  # the same person again, later
    run(capsys, "events", "forget", "--user-id", GONE, "--anonymise", "--data-dir", str(store))
    events = stored(store)
    assert len(events) == 7  # counts intact
    theirs = [e for e in events if e["userId"] not in (KEPT,)]
    assert len(theirs) == 4 and len({e["userId"] for e in theirs}) == 1
    assert theirs[0]["userId"] == keyed.hash_id(keyed.load_key(store), GONE)
    assert all(e["client"]["ip"] is None for e in theirs)
    assert [entry["action"] for entry in audit.read(store)] == ["anonymise", "anonymise"]


def test_the_persons_dead_letters_are_deleted_and_the_others_kept(capsys, store):
    keep_letter(store, b'{"messageBody": [{"eventType": "bad type", "userId": "u-gone"}]}')
    keep_letter(store, b'{"messageBody": [{"eventType": "bad type", "userId": "someone"}]}')
    keep_letter(store, b'{not json "u-gone"')
    code, out, _ = run(capsys, "events", "forget", "--user-id", GONE, "--data-dir", str(store))
    assert code == 0 and "deleted: 2 dead letters" in out
    code, listing, _ = run(capsys, "deadletter", "list", "--json", "--data-dir", str(store))
    assert "someone" in listing and GONE not in listing


def test_export_prints_the_persons_events_oldest_first_then_their_dead_letters(capsys, store):
    keep_letter(store, b'{"messageBody": [{"eventType": "bad type", "userId": "u-gone"}]}')
    code, out, _ = run(capsys, "events", "export", "--user-id", GONE, "--data-dir", str(store))
    assert code == 0
    lines = [orjson.loads(line) for line in out.splitlines()]
    assert [line.get("eventId") for line in lines[:2]] == ["e-2", "e-4"]
    assert lines[2]["code"] == "invalid_field" and GONE in lines[2]["body"]
    assert len(lines) == 3
    assert not (store / "erasures.log").exists()  # an export changes nothing


def test_a_second_forget_while_one_runs_is_refused_naming_the_lock(capsys, store):
    fd = os.open(store / LOCK_FILE, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        code, _, err = run(capsys, "events", "forget", "--user-id", GONE, "--data-dir", str(store))
    finally:
        os.close(fd)
    assert code == 75
    assert str(store / LOCK_FILE) in err and "another `collector events forget` is running" in err
    assert len(stored(store)) == 5


def test_a_directory_that_is_not_a_collectors_is_refused_and_left_untouched(capsys, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "notes.txt").write_text(f"{GONE}\n")
    code, _, err = run(capsys, "events", "forget", "--user-id", GONE, "--data-dir", str(home))
    assert code == 2 and "not a collector data directory" in err
    assert [p.name for p in home.iterdir()] == ["notes.txt"]


def test_no_id_is_a_usage_error(capsys, store):
    code, _, err = run(capsys, "events", "forget", "--data-dir", str(store))
    assert code == 2 and "no id given" in err


def test_a_live_workers_open_file_holding_the_person_makes_forget_exit_1_naming_it(capsys, store):
    held = write(store / name(5, ".jsonl.open"), [event(9, GONE)])
    fd = os.open(held, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        code, _, err = run(capsys, "events", "forget", "--user-id", GONE, "--data-dir", str(store))
    finally:
        os.close(fd)
    assert code == 1 and f"NOT erased: {held.name}" in err
    assert audit.read(store)[-1]["notReached"] == [held.name]


def test_a_file_that_cannot_be_replaced_stops_forget_with_exit_1_and_leaves_it_whole(capsys, store, monkeypatch):
    from collector.erasure import rewrite

    def full_disk(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(rewrite, "_write_temp", full_disk)
    code, _, err = run(capsys, "events", "forget", "--user-id", GONE, "--data-dir", str(store))
    assert code == 1 and "No space left on device" in err and "run it again" in err
    assert len(stored(store)) == 5
    assert not (store / "erasures.log").exists()


def test_what_a_run_killed_before_its_audit_line_did_goes_into_the_next_runs_line(capsys, store):
    audit.note(store, name(1, ".jsonl.gz"), 2)  # as a killed run left it
    code, _, _ = run(capsys, "events", "forget", "--user-id", GONE, "--data-dir", str(store))
    assert code == 0
    (entry,) = audit.read(store)
    assert entry["cutShort"] == {"files": {name(1, ".jsonl.gz"): 2}}
    assert audit.cut_short(store) is None
    run(capsys, "events", "forget", "--user-id", GONE, "--data-dir", str(store))
    assert audit.read(store)[-1]["cutShort"] is None


def test_with_the_idempotency_state_in_memcached_the_erased_events_ids_go_there(capsys, store, environ, memcached):
    from pymemcache.client.base import PooledClient

    from collector.idempotency.state import MemcachedState

    environ.setenv("COLLECTOR_RATE_LIMIT_STORAGE", memcached.uri)
    state = MemcachedState(PooledClient(("127.0.0.1", memcached.port), timeout=2), 3600)
    state.record_events(["e-1", "e-2", "e-4"])
    code, out, err = run(capsys, "events", "forget", "--user-id", GONE, "--data-dir", str(store))
    assert code == 0, err
    assert "deleted: 0 dead letters, 2 idempotency rows" in out
    assert state.stored_events(["e-1", "e-2", "e-4"]) == {"e-1"}
    state.close()


def test_suppress_adds_the_user_and_anonymous_ids_to_the_suppressed_ids_file_then_erases(
    capsys, store, tmp_path, monkeypatch
):
    listed = tmp_path / "etc" / "suppressed-ids.txt"
    listed.parent.mkdir()
    listed.write_text("# people who asked not to be collected\nu-earlier\n")
    monkeypatch.setenv("COLLECTOR_SUPPRESSED_IDS_FILE", str(listed))
    code, out, err = run(capsys, "events", "forget", "--user-id", GONE, "--anonymous-id", "a-gone",
                         "--session-id", "s-gone", "--suppress", "--data-dir", str(store))
    assert code == 0, err
    # sessionIds are not suppressed: the service matches userId and anonymousId only.
    assert listed.read_text().splitlines() == ["# people who asked not to be collected", "u-earlier", "a-gone", GONE]
    assert f"2 ids added to {listed}" in out and "systemctl reload collector" in out
    assert [e["eventId"] for e in stored(store)] == ["e-1"]
    (entry,) = audit.read(store)
    assert entry["suppressed"] == 2


def test_suppress_without_the_setting_is_refused_and_nothing_is_erased(capsys, store, monkeypatch):
    monkeypatch.delenv("COLLECTOR_SUPPRESSED_IDS_FILE", raising=False)
    before = stored(store)
    code, _, err = run(capsys, "events", "forget", "--user-id", GONE, "--suppress", "--data-dir", str(store))
    assert code == 2 and "COLLECTOR_SUPPRESSED_IDS_FILE" in err
    assert stored(store) == before and not (store / "erasures.log").exists()


def test_suppress_refuses_an_id_the_file_cannot_hold_before_erasing(capsys, store, tmp_path, monkeypatch):
    listed = tmp_path / "suppressed-ids.txt"
    monkeypatch.setenv("COLLECTOR_SUPPRESSED_IDS_FILE", str(listed))
    before = stored(store)
    code, _, err = run(capsys, "events", "forget", "--user-id", "#not-an-id", "--suppress", "--data-dir", str(store))
    assert code == 2 and "suppressed" in err.lower()
    assert stored(store) == before and not listed.exists()


def test_a_dry_run_with_suppress_says_what_it_would_add_and_changes_nothing(capsys, store, tmp_path, monkeypatch):
    listed = tmp_path / "suppressed-ids.txt"
    monkeypatch.setenv("COLLECTOR_SUPPRESSED_IDS_FILE", str(listed))
    code, out, err = run(capsys, "events", "forget", "--user-id", GONE, "--suppress", "--dry-run",
                         "--data-dir", str(store))
    assert code == 0, err
    assert f"would add 1 id to {listed}" in out and not listed.exists()


def test_stats_reflect_an_erasure_at_once(capsys, store):
    def counted() -> int:
        code, out, err = run(capsys, "events", "stats", "--json", "--data-dir", str(store))
        assert code == 0, err
        return orjson.loads(out)["events"]

    assert counted() == 5
    code, _, err = run(capsys, "events", "forget", "--user-id", GONE, "--data-dir", str(store))
    assert code == 0, err
    assert counted() == 3  # the person's two events are gone from the counts
