"""collector/suppressed.py: the suppressed ids file read within its bounds, matched, appended to atomically, pinned."""

from __future__ import annotations

import os
import stat
import threading

import pytest

from collector import suppressed
from collector.suppressed import (
    LONGEST_ID,
    MOST_IDS,
    SuppressedIds,
    SuppressedIdsError,
    append_suppressed,
    read_ids,
)

FILE = (
    "# people who asked not to be collected (ticket numbers in comments)\n"
    "user-1\n"
    "\n"
    "  anon-7f3c  \n"
    "#user-2 is a comment, not an id\n"
    "id with inner spaces\n"
)



def test_one_id_a_line_blank_lines_and_comments_skipped_whitespace_around_stripped(tmp_path):
    path = tmp_path / "suppressed.txt"
    path.write_text(FILE)
    listed = read_ids(path)
    assert listed.ids == {"user-1", "anon-7f3c", "id with inner spaces"}
    assert (listed.source, len(listed)) == (str(path), 3)


def test_crlf_lines_are_read_as_their_ids(tmp_path):
    path = tmp_path / "suppressed.txt"
    path.write_bytes(b"user-1\r\nuser-2\r\n")
    assert read_ids(path).ids == {"user-1", "user-2"}


def test_an_id_over_the_longest_is_refused_in_one_line_naming_its_line_not_its_text(tmp_path):
    path = tmp_path / "suppressed.txt"
    path.write_text("ok\n" + "x" * LONGEST_ID + "\n# c\n" + "y" * (LONGEST_ID + 1) + "\n")
    with pytest.raises(SuppressedIdsError) as caught:
        read_ids(path)
    assert str(caught.value) == (
        f"{path}: line 4: an id longer than {LONGEST_ID} characters (the longest userId or anonymousId accepted)"
    )
    assert "yyy" not in str(caught.value)


def test_more_than_the_most_ids_is_refused(tmp_path):
    path = tmp_path / "suppressed.txt"
    path.write_text("".join(f"u{number}\n" for number in range(MOST_IDS)))
    assert len(read_ids(path)) == MOST_IDS
    with path.open("a") as file:
        file.write("u-one-more\n")
    with pytest.raises(SuppressedIdsError, match=rf"^{path}: more than {MOST_IDS} ids$"):
        read_ids(path)


def test_a_missing_or_non_utf8_file_is_refused_in_one_line(tmp_path):
    with pytest.raises(SuppressedIdsError, match=r"^.*/missing: cannot be read \(No such file or directory\)$"):
        read_ids(tmp_path / "missing")
    latin = tmp_path / "latin.txt"
    latin.write_bytes("m\xfcller\n".encode("latin-1"))
    with pytest.raises(SuppressedIdsError, match=r": not UTF-8 text$"):
        read_ids(latin)


def test_the_first_event_carrying_a_listed_user_or_anonymous_id_is_found():
    listed = SuppressedIds("f", frozenset({"u1", "a1"}))
    assert listed.first_match([{"userId": "u2"}, {"anonymousId": "a2"}]) is None
    assert listed.first_match([{"userId": "u2"}, {"userId": "x", "anonymousId": "a1"}]) == (1, "anonymousId")
    assert listed.first_match([{"userId": "u1", "anonymousId": "a1"}]) == (0, "userId")
    # Matched exactly: no case folding, and only those two fields.
    assert listed.first_match([{"userId": "U1"}, {"sessionId": "u1"}, {"properties": {"userId": "u1"}}]) is None


def test_append_keeps_the_lines_and_comments_adds_only_new_ids_and_says_how_many(tmp_path):
    path = tmp_path / "suppressed.txt"
    path.write_text(FILE.rstrip("\n"))  # no final newline: one is added before the new ids
    assert append_suppressed(path, ["user-9", "user-1", "anon-7f3c", "user-9", "user-10"]) == 2
    assert path.read_text() == FILE + "user-9\nuser-10\n"
    assert append_suppressed(path, ["user-9"]) == 0
    assert read_ids(path).ids == {"user-1", "anon-7f3c", "id with inner spaces", "user-9", "user-10"}


def test_append_makes_the_file_when_missing(tmp_path):
    path = tmp_path / "suppressed.txt"
    assert append_suppressed(path, ["u1", "u2"]) == 2
    assert path.read_text() == "u1\nu2\n"


def test_append_replaces_the_file_by_a_rename_keeping_its_mode_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "suppressed.txt"
    path.write_text("u1\n")
    path.chmod(0o640)
    reader = path.open()  # the service's master reading the old file keeps reading it whole
    before = os.stat(path).st_ino
    append_suppressed(path, ["u2"])
    assert os.stat(path).st_ino != before
    assert reader.read() == "u1\n"
    reader.close()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert sorted(os.listdir(tmp_path)) == ["suppressed.txt"]


@pytest.mark.parametrize(
    "bad",
    ["", "#u1", " u1", "u1 ", "u\n1", "u\r1", "x" * (LONGEST_ID + 1)],
    ids=["empty", "comment", "leading-space", "trailing-space", "newline", "carriage-return", "too-long"],
)
def test_append_refuses_an_id_that_would_not_read_back_as_itself_and_changes_nothing(tmp_path, bad):
    path = tmp_path / "suppressed.txt"
    path.write_text("u1\n")
    with pytest.raises(ValueError, match=r"^id 2 of 2 cannot be listed: "):
        append_suppressed(path, ["u2", bad])
    assert path.read_text() == "u1\n"


def test_append_past_the_most_ids_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(suppressed, "MOST_IDS", 3)
    path = tmp_path / "suppressed.txt"
    path.write_text("u1\nu2\n")
    with pytest.raises(ValueError, match=r"would hold more than 3 ids"):
        append_suppressed(path, ["u3", "u4"])
    assert path.read_text() == "u1\nu2\n"


def test_append_to_a_broken_file_is_refused_and_changes_nothing(tmp_path):
    path = tmp_path / "suppressed.txt"
    path.write_text("x" * (LONGEST_ID + 1) + "\n")
    with pytest.raises(SuppressedIdsError, match=r"line 1: an id longer than"):
        append_suppressed(path, ["u1"])
    assert path.read_text() == "x" * (LONGEST_ID + 1) + "\n"


def test_appends_at_once_lose_no_id(tmp_path):
    path = tmp_path / "suppressed.txt"
    path.write_text("# list\n")
    threads = [
        threading.Thread(target=append_suppressed, args=(path, [f"t{thread}-{number}" for number in range(20)]))
        for thread in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(read_ids(path)) == 8 * 20
