"""collector/console/letters.py: the newest letters per code, bounded, and one letter found by its id."""

from __future__ import annotations

from collector.console.letters import MAX_CODES, PER_CODE, LatestByCode, find, replay_outcome
from collector.deadletters import letters as deadletters
from collector.deadletters.letters import DeadLetters
from collector.deadletters.replay import ReplayReport


def keep(letters: DeadLetters, code: str, body: bytes | None = b"{}") -> None:
    letters.record(body=body, status=400, code=code, message=f"refused: {code}", facts={})


def test_the_newest_of_each_code_are_kept_so_a_flood_of_one_code_hides_no_other(tmp_path):
    letters = DeadLetters(tmp_path, "host", max_body_bytes=100, max_bytes=1 << 24)
    keep(letters, "invalid_json")
    for _ in range(PER_CODE + 30):
        keep(letters, "invalid_event_type")
    latest = LatestByCode(tmp_path)
    listed, codes = latest.latest(None, 1000)
    assert codes == {"invalid_event_type": PER_CODE, "invalid_json": 1}
    assert listed[-1]["code"] == "invalid_json" and all("body" not in letter for letter in listed)
    assert [letter["code"] for letter in latest.latest("invalid_json", 10)[0]] == ["invalid_json"]
    keep(letters, "invalid_json")  # read incrementally: only what was added since
    assert latest.latest(None, 1000)[1]["invalid_json"] == 2


def test_codes_are_bounded_too(tmp_path):
    letters = DeadLetters(tmp_path, "host", max_body_bytes=100, max_bytes=1 << 24)
    for n in range(MAX_CODES + 5):
        keep(letters, f"code_{n}")
    assert len(LatestByCode(tmp_path).latest(None, 10_000)[1]) == MAX_CODES


def test_a_letter_is_found_whole_by_its_id_in_any_file_and_only_by_its_id(tmp_path):
    letters = DeadLetters(tmp_path, "host", max_body_bytes=100, max_bytes=1 << 24)
    keep(letters, "invalid_json", b"{nope")
    letters.record_bodiless(status=401, code="missing_write_key", message="m", facts={})
    kept = {letter["code"]: letter for letter in deadletters.read(tmp_path)}
    for letter in kept.values():
        assert find(tmp_path, letter["id"]) == letter
    assert find(tmp_path, "00000000-0000-4000-8000-000000000000") is None
    # An id written inside another letter's body (in a file searched first) is not that letter.
    planted = kept["missing_write_key"]["id"]
    keep(letters, "invalid_json", f'{{"id": "{planted}"}}'.encode())
    assert find(tmp_path, planted) == kept["missing_write_key"]


def test_a_replay_of_one_letter_says_what_became_of_it():
    assert replay_outcome(ReplayReport(stored=[("id", "ping", 2)])) == {
        "outcome": "stored", "pingId": "ping", "events": 2, "duplicates": 0
    }
    assert replay_outcome(ReplayReport(already=1)) == {"outcome": "already replayed"}
    assert replay_outcome(ReplayReport()) is None
