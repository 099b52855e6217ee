"""Dead letters on disk: what one keeps of a refused request, the size cap, the replay record."""

from __future__ import annotations

import base64
import logging
import os
import threading

import pytest

from collector.deadletters import letters as deadletters
from collector.deadletters.letters import DeadLetters


def record(letters: DeadLetters, body: bytes | None, code: str = "invalid_event_type") -> None:
    letters.record(
        body=body, status=400, code=code, message="invalid event type", facts={"client": {"ip": "203.0.113.7"}}
    )


def test_a_refused_request_is_kept_with_its_body_and_verdict(tmp_path):
    letters = DeadLetters(tmp_path, "host", max_body_bytes=1000, max_bytes=10_000)
    record(letters, b'{"messageBody": [{"eventType": ""}]}')
    [letter] = deadletters.read(tmp_path)
    assert letter["status"] == 400 and letter["code"] == "invalid_event_type"
    assert letter["body"] == '{"messageBody": [{"eventType": ""}]}'
    assert (letter["bodyBytes"], letter["bodyTruncated"]) == (36, False)
    assert letter["client"] == {"ip": "203.0.113.7"} and letter["id"] and letter["receivedAt"].endswith("Z")


def test_a_long_body_is_cut_and_bytes_that_are_not_text_kept_as_base64(tmp_path):
    letters = DeadLetters(tmp_path, "host", max_body_bytes=4, max_bytes=10_000)
    record(letters, b"0123456789")
    record(letters, b"\xff\xfe\x00\x01")
    long, binary = deadletters.read(tmp_path)
    assert (long["body"], long["bodyBytes"], long["bodyTruncated"]) == ("0123", 10, True)
    assert base64.b64decode(binary["bodyBase64"]) == b"\xff\xfe\x00\x01" and "body" not in binary


def directory_bytes(data_dir) -> int:
    return sum(path.stat().st_size for path in (data_dir / "deadletters").iterdir() if path.is_file())


def test_the_directory_stays_under_its_cap_oldest_first(tmp_path):
    letters = DeadLetters(tmp_path, "host", max_body_bytes=200, max_bytes=1500)
    for n in range(30):
        record(letters, b"x" * 150 + str(n).encode())
        assert directory_bytes(tmp_path) <= 1500
    kept = [letter["body"] for letter in deadletters.read(tmp_path)]
    assert kept[-1].endswith("29"), "the newest are kept"
    assert not any(body.endswith("x0") for body in kept), "the oldest went first"


def test_the_cap_holds_for_several_writers_at_every_moment(tmp_path):
    # Three processes' worth of writers, each with its own file: the cap is on their sum.
    writers = [DeadLetters(tmp_path, f"host{n}", max_body_bytes=4096, max_bytes=64 * 1024) for n in range(3)]
    for n in range(600):
        record(writers[n % 3], b"y" * (50 + (n * 37) % 3000))
        assert directory_bytes(tmp_path) <= 64 * 1024, f"over the cap after letter {n}"
    assert len(list(deadletters.read(tmp_path))) > 20, "the cap keeps a good share of letters, not one file's worth"


def test_a_letter_larger_than_the_whole_cap_is_dropped_and_the_cap_held(tmp_path, caplog):
    letters = DeadLetters(tmp_path, "host", max_body_bytes=10_000, max_bytes=1000)
    record(letters, b"small")
    record(letters, b"z" * 5000)
    assert directory_bytes(tmp_path) <= 1000
    assert [letter["body"] for letter in deadletters.read(tmp_path)] == ["small"]
    assert "larger than COLLECTOR_DEAD_LETTER_MAX_BYTES" in caplog.text


def test_write_failures_are_logged_once_per_outage_and_the_recovery_once(tmp_path, caplog):
    letters = DeadLetters(tmp_path, "host", max_body_bytes=100, max_bytes=10_000)
    (tmp_path / "deadletters").write_text("a file where the directory should be")
    with caplog.at_level(logging.INFO, logger="collector.deadletters.letters"):
        for _ in range(5):
            record(letters, b"lost")
        failures = [r for r in caplog.records if "could not keep" in r.getMessage()]
        assert len(failures) == 1 and failures[0].levelno == logging.WARNING
        (tmp_path / "deadletters").unlink()
        for _ in range(3):
            record(letters, b"kept")
    recoveries = [r for r in caplog.records if "kept again" in r.getMessage()]
    assert len(recoveries) == 1
    assert len([r for r in caplog.records if "could not keep" in r.getMessage()]) == 1
    assert [letter["body"] for letter in deadletters.read(tmp_path)] == ["kept"] * 3


def test_a_second_replay_is_refused_while_one_holds_the_lock(tmp_path):
    (tmp_path / "deadletters").mkdir()
    with (
        deadletters.replay_lock(tmp_path),
        pytest.raises(deadletters.ReplayRunning) as running,
        deadletters.replay_lock(tmp_path),
    ):
        pass
    assert str(tmp_path / "deadletters" / "replay.lock") in str(running.value)
    with deadletters.replay_lock(tmp_path):  # released: the next replay runs
        pass


def test_replayed_ids_are_remembered(tmp_path):
    (tmp_path / "deadletters").mkdir()
    assert deadletters.replayed_ids(tmp_path) == set()
    deadletters.mark_replayed(tmp_path, "id-1")
    deadletters.mark_replayed(tmp_path, "id-2")
    assert deadletters.replayed_ids(tmp_path) == {"id-1", "id-2"}


@pytest.mark.parametrize("body", [None, b""])
def test_a_request_without_a_body_is_kept_too(tmp_path, body):
    letters = DeadLetters(tmp_path, "host", max_body_bytes=10, max_bytes=10_000)
    record(letters, body)
    [letter] = deadletters.read(tmp_path)
    assert letter["bodyBytes"] == 0


def test_read_new_reads_only_whole_lines_added_since_the_offsets(tmp_path):
    directory = tmp_path / deadletters.DIRECTORY
    directory.mkdir()
    path = directory / "deadletters-20261203T000000.000000Z-h-1.jsonl"
    path.write_bytes(b'{"id":"1","code":"a"}\n{"id":"2","co')
    offsets: dict[str, int] = {}
    assert [letter["id"] for letter in deadletters.read_new(tmp_path, offsets)] == ["1"]
    with open(path, "ab") as out:
        out.write(b'de":"b"}\n{"id":"3","code":"c"}\n')
    assert [letter["id"] for letter in deadletters.read_new(tmp_path, offsets)] == ["2", "3"]
    assert list(deadletters.read_new(tmp_path, offsets)) == []
    path.unlink()  # deleted by the cap: forgotten
    assert list(deadletters.read_new(tmp_path, offsets)) == [] and offsets == {}
    assert [letter["id"] for letter in deadletters.read(tmp_path)] == []


def test_pruning_the_replay_record_keeps_only_the_ids_of_letters_still_kept(tmp_path):
    (tmp_path / "deadletters").mkdir()
    for letter_id in ("gone-1", "kept", "gone-2"):
        deadletters.mark_replayed(tmp_path, letter_id)
    deadletters.prune_replayed(tmp_path, kept_ids={"kept", "never-replayed"})
    assert deadletters.replayed_ids(tmp_path) == {"kept"}
    assert (tmp_path / "deadletters" / deadletters.REPLAYED).read_text() == "kept\n"


def test_a_fifo_or_a_symlink_loop_among_the_dead_letters_is_skipped_never_waited_on(tmp_path):
    directory = tmp_path / deadletters.DIRECTORY
    directory.mkdir()
    (directory / "deadletters-20261203T000000.000000Z-h-1.jsonl").write_bytes(b'{"id":"1","code":"a"}\n')
    os.mkfifo(directory / "deadletters-20261203T000001.000000Z-h-2.jsonl")
    os.symlink(
        "deadletters-20261203T000002.000000Z-h-3.jsonl", directory / "deadletters-20261203T000002.000000Z-h-3.jsonl"
    )
    found: list[str] = []
    # A FIFO used to block the reader for ever: read from a thread, with a generous deadline.
    reader = threading.Thread(
        target=lambda: found.extend(letter["id"] for letter in deadletters.read(tmp_path)), daemon=True
    )
    reader.start()
    reader.join(60)
    assert not reader.is_alive() and found == ["1"]


def test_letters_without_a_body_get_an_eighth_of_the_cap_and_never_push_out_the_others(tmp_path):
    # Refused preflights and 401s come before the rate limit: a flood of them must not cost the letters a replay needs.
    letters = DeadLetters(tmp_path, "host", max_body_bytes=200, max_bytes=8000)
    for n in range(5):
        record(letters, b"x" * 150 + str(n).encode())
    for _ in range(200):
        letters.record_bodiless(status=401, code="invalid_write_key", message="the write key is not valid",
                                facts={"client": {"ip": "203.0.113.7"}, "triedKeyId": "0badc0de"})
        assert directory_bytes(tmp_path) <= 8000
    kept = list(deadletters.read(tmp_path))
    assert [letter["body"] for letter in kept if letter["code"] == "invalid_event_type"] == [
        "x" * 150 + str(n) for n in range(5)
    ]
    bodiless = [letter for letter in kept if letter["code"] == "invalid_write_key"]
    assert bodiless and all(letter["body"] is None and letter["triedKeyId"] == "0badc0de" for letter in bodiless)
    files = (tmp_path / "deadletters").glob(deadletters.BODILESS_PREFIX + "*.jsonl")
    assert 0 < sum(path.stat().st_size for path in files) <= 8000 // 8


def test_letters_without_a_body_are_kept_at_most_so_many_a_second_per_process_the_rest_counted(tmp_path):
    # A flood of 401s or preflights costs a count, not a locked write each: the detail of the first ones is enough.
    from prometheus_client import REGISTRY

    now = [1000.0]
    letters = DeadLetters(tmp_path, "host", max_body_bytes=200, max_bytes=1 << 20, clock=lambda: now[0])
    unkept = REGISTRY.get_sample_value("collector_dead_letters_unkept_total") or 0.0
    for _ in range(deadletters.BODILESS_PER_SECOND * 3):
        letters.record_bodiless(status=401, code="missing_write_key", message="m", facts={})
    record(letters, b"{}")  # a letter with a body is never held back
    now[0] += 1.0
    letters.record_bodiless(status=401, code="missing_write_key", message="m", facts={})
    codes = [letter["code"] for letter in deadletters.read(tmp_path)]
    assert codes.count("missing_write_key") == deadletters.BODILESS_PER_SECOND + 1
    assert codes.count("invalid_event_type") == 1
    unkept_now = REGISTRY.get_sample_value("collector_dead_letters_unkept_total")
    assert unkept_now - unkept == deadletters.BODILESS_PER_SECOND * 2
