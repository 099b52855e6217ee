from __future__ import annotations

from collector.erasure import audit
from collector.erasure.matching import Ids


def test_entries_are_appended_one_line_each_and_private(tmp_path):
    audit.append(tmp_path, {"at": audit.now(), "events": 1})
    audit.append(tmp_path, {"at": audit.now(), "events": 2})
    assert [entry["events"] for entry in audit.read(tmp_path)] == [1, 2]
    assert (tmp_path / "erasures.log").stat().st_mode & 0o777 == 0o600


def test_ids_are_kept_as_keyed_hashes_by_the_field_they_were_looked_for_in():
    hashed = audit.hashed_ids(Ids.of(user=["u-1"], any_field=["x"]), b"k" * 32)
    assert set(hashed) == {"userId", "anyField"}
    assert "u-1" not in str(hashed) and hashed["userId"][0].startswith("hmac:")


def test_the_journal_of_runs_cut_short_adds_up_their_files_and_ends_with_the_audit_line(tmp_path):
    assert audit.cut_short(tmp_path) is None
    audit.note(tmp_path, "events-a.jsonl.gz", 3)
    audit.note(tmp_path, "events-b.jsonl", 2)
    audit.note(tmp_path, "events-a.jsonl.gz", 1)  # a second run, cut short too, finding what the first left
    with open(tmp_path / audit.JOURNAL, "ab") as journal:
        journal.write(b'{"file": "events-c.js')  # torn by the kill
    assert audit.cut_short(tmp_path) == {"files": {"events-a.jsonl.gz": 3, "events-b.jsonl": 2}}
    audit.close_journal(tmp_path)
    assert audit.cut_short(tmp_path) is None


def test_logged_names_each_entry_by_its_line_and_skips_a_torn_one(tmp_path):
    audit.append(tmp_path, {"files": {"a.jsonl.gz": 2}, "removedFiles": ["b.jsonl"], "cutShort": {"files": {"c": 1}}})
    audit.append(tmp_path, {"files": {}, "removedFiles": [], "cutShort": None})
    with (tmp_path / "erasures.log").open("ab") as log:
        log.write(b'{"files":{"d.jso')  # a crash mid-append
    [(first, entry), (second, _)] = audit.logged(tmp_path)
    assert first != second and len(first) == 64
    assert audit.files_named(entry) == {"a.jsonl.gz", "b.jsonl", "c"}
    assert audit.logged(tmp_path / "nowhere") == []
