"""The idempotency state, SQLite and memcached alike: claims, completions, event ids, expiry."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from pymemcache.client.base import PooledClient

from collector.idempotency.state import PENDING_SECONDS, MemcachedState, SQLiteState, StateBusy


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["sqlite", "memcached"])
def make_state(request, tmp_path):
    made = []

    def make(window=3600.0, clock=None):
        if request.param == "sqlite":
            state = SQLiteState(tmp_path / "data", window, clock or Clock())
        else:
            memcached = request.getfixturevalue("memcached")
            state = MemcachedState(PooledClient(("127.0.0.1", memcached.port), timeout=2), window)
        made.append(state)
        return state

    yield make
    for state in made:
        state.close()


def test_the_first_claim_wins_and_the_second_sees_it_pending(make_state):
    state = make_state()
    assert state.claim("key-1", "f1").outcome == "claimed"
    second = state.claim("key-1", "f1")
    assert (second.outcome, second.fingerprint) == ("pending", "f1")


def test_a_completed_key_answers_its_response_and_fingerprint(make_state):
    state = make_state()
    state.claim("key-2", "f2")
    state.complete("key-2", "f2", b'{"headers": {}, "value": "x y"}')
    found = state.claim("key-2", "other")
    assert (found.outcome, found.fingerprint, found.response) == ("done", "f2", b'{"headers": {}, "value": "x y"}')


def test_a_released_key_can_be_claimed_again(make_state):
    state = make_state()
    state.claim("key-3", "f3")
    state.release("key-3")
    assert state.claim("key-3", "f3").outcome == "claimed"


def test_event_ids_are_remembered_once_recorded(make_state):
    state = make_state()
    assert state.stored_events(["a", "b"]) == set()
    state.record_events(["a"])
    assert state.stored_events(["a", "b", "c"]) == {"a"}


def test_sqlite_claims_and_ids_expire(tmp_path):
    clock = Clock()
    state = SQLiteState(tmp_path / "data", 100.0, clock)
    state.claim("k", "f")
    clock.now += PENDING_SECONDS + 1  # a worker died between its claim and its store
    assert state.claim("k", "f").outcome == "claimed"
    state.complete("k", "f", b"r")
    state.record_events(["e"])
    clock.now += 101
    assert state.claim("k", "f").outcome == "claimed"
    assert state.stored_events(["e"]) == set()
    state.close()


def test_a_deleted_state_file_forgets_and_starts_afresh(tmp_path):
    state = SQLiteState(tmp_path / "data", 100.0)
    state.record_events(["e"])
    state.path.unlink()
    assert state.stored_events(["e"]) == set()
    state.record_events(["e"])
    assert state.stored_events(["e"]) == {"e"}
    state.close()


def test_two_states_on_one_file_share_claims(tmp_path):
    # Two workers of one VM: each has its own connection to the same file.
    first, second = SQLiteState(tmp_path / "data", 100.0), SQLiteState(tmp_path / "data", 100.0)
    assert first.claim("shared", "f").outcome == "claimed"
    assert second.claim("shared", "f").outcome == "pending"
    first.close()
    second.close()


def test_racing_first_uses_of_a_new_file_each_get_an_answer(tmp_path):
    # SQLite refuses a switch to WAL that races another connection's at once
    # ("database is locked"), without waiting out its busy timeout: the first
    # requests of a new service, arriving together, each saw the state as
    # failed and stored their copies at least once (two 201s for one key).
    for trial in range(150):
        states = [SQLiteState(tmp_path / f"data{trial}", 100.0) for _ in range(6)]
        start = threading.Barrier(len(states))
        outcomes: list[str] = []

        def claim(state: SQLiteState, start: threading.Barrier, outcomes: list[str]) -> None:
            start.wait()
            try:
                outcomes.append(state.claim("first", "f").outcome)
            except sqlite3.Error as error:
                outcomes.append(repr(error))
            finally:
                state.close()

        threads = [threading.Thread(target=claim, args=(state, start, outcomes)) for state in states]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["claimed"] + ["pending"] * (len(states) - 1), (trial, outcomes)


def test_a_claim_on_a_file_locked_past_the_timeout_is_busy_and_claims_nothing(tmp_path):
    state = SQLiteState(tmp_path / "data", 100.0, timeout=0.05)
    state.claim("warm-up", "f")  # the file and its tables exist, as in a running service
    holder = sqlite3.connect(state.path, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        with pytest.raises(StateBusy):
            state.claim("k", "f")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert state.claim("k", "f").outcome == "claimed", "the busy claim left nothing behind"
    state.close()


def test_an_erasure_forgets_the_rows_of_its_event_ids_and_the_answers_naming_its_ping_ids(tmp_path):
    state = SQLiteState(tmp_path, window_seconds=3600)
    state.record_events(["e-1", "k e-2", "e-3"])
    ping = "00000000-0000-4000-8000-000000000001"
    state.complete("key-1", "f", b'{"headers": {}, "value": "{\\"pingId\\": \\"' + ping.encode() + b'\\"}"}')
    state.complete("key-2", "f", b'{"headers": {}, "value": "{\\"pingId\\": \\"other\\"}"}')
    assert state.forget(["e-1", "k e-2"], {ping}, dry_run=True) == 3
    assert state.stored_events(["e-1", "k e-2", "e-3"]) == {"e-1", "k e-2", "e-3"}
    assert state.forget(["e-1", "k e-2"], {ping}) == 3
    assert state.stored_events(["e-1", "k e-2", "e-3"]) == {"e-3"}
    assert state.claim("key-1", "f").outcome == "claimed"
    assert state.claim("key-2", "f").outcome == "done"
    state.close()


def test_an_erasure_forgets_the_event_ids_of_the_erased_events_in_either_state(make_state):
    state = make_state()
    state.record_events(["e-1", "k e-2", "e-3"])
    assert state.forget(["e-1", "k e-2", "e-9"], set(), dry_run=True) == 2
    assert state.stored_events(["e-1", "k e-2", "e-3"]) == {"e-1", "k e-2", "e-3"}
    assert state.forget(["e-1", "k e-2", "e-9"], set()) == 2
    assert state.stored_events(["e-1", "k e-2", "e-3"]) == {"e-3"}
