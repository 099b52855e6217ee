"""The Parquet exporter's ledger: a JSON-lines file per target in the data directory, a whole line per record."""

from __future__ import annotations

import pytest

from collector.loaders import ledger


def test_each_target_has_its_own_ledger_and_lock_named_after_it(tmp_path):
    one = ledger.Ledger(tmp_path, tmp_path / "srv" / "parquet")
    two = ledger.Ledger(tmp_path, tmp_path / "srv" / "other")
    assert one.path.parent == tmp_path / ledger.DIRECTORY and one.path.name.endswith(".jsonl")
    assert "srv_parquet" in one.path.name and one.path != two.path and one.lock_path != two.lock_path
    assert ledger.Ledger(tmp_path, tmp_path / "srv" / "x" / ".." / "parquet").path == one.path


def test_records_are_appended_and_read_back(tmp_path):
    books = ledger.Ledger(tmp_path, tmp_path / "out")
    with books.locked():
        books.append({"file": "a.jsonl", "outputs": []})
        books.append({"file": "b.jsonl", "outputs": []})
    assert [record["file"] for record in books.records()] == ["a.jsonl", "b.jsonl"]
    assert set(books.exported()) == {"a.jsonl", "b.jsonl"}


def test_stale_outputs_are_those_of_files_taken_out_and_not_exported_since(tmp_path):
    books = ledger.Ledger(tmp_path, tmp_path / "out")
    with books.locked():
        books.append({"file": "a.jsonl", "outputs": ["d1/a.parquet", "d2/a.parquet"]})
        books.append({"file": "b.jsonl", "outputs": ["d1/b.parquet"]})
        books.append({"file": "a.jsonl", "again": True, "stale": ["d1/a.parquet", "d2/a.parquet"]})
        books.append({"file": "b.jsonl", "again": True, "stale": ["d1/b.parquet"]})
        books.append({"file": "b.jsonl", "outputs": ["d1/b.parquet"]})  # exported again: replaced
        books.append({"file": "c.jsonl", "again": True, "removed": ["d1/c.parquet"]})  # gone: nothing stale
    assert books.stale() == {"a.jsonl": ["d1/a.parquet", "d2/a.parquet"], "c.jsonl": []}
    assert set(books.exported()) == {"b.jsonl"}


def test_a_torn_last_line_is_no_record_and_is_cut_off_before_the_next_append(tmp_path):
    books = ledger.Ledger(tmp_path, tmp_path / "out")
    with books.locked():
        books.append({"file": "a.jsonl", "outputs": []})
    with books.path.open("ab") as torn:
        torn.write(b'{"file": "b.js')  # a crash mid-append
    assert set(books.exported()) == {"a.jsonl"}
    with books.locked():
        books.append({"file": "c.jsonl", "outputs": []})
    assert set(books.exported()) == {"a.jsonl", "c.jsonl"}
    assert books.path.read_bytes().count(b"\n") == 2


def test_a_second_holder_of_the_lock_is_refused_at_once(tmp_path):
    books = ledger.Ledger(tmp_path, tmp_path / "out")
    with books.locked(), pytest.raises(ledger.AlreadyRunning), ledger.Ledger(tmp_path, tmp_path / "out").locked():
        pass


def test_a_line_that_is_not_a_record_is_reported_and_not_taken_for_one(tmp_path):
    books = ledger.Ledger(tmp_path, tmp_path / "out")
    books.directory.mkdir()
    books.path.write_bytes(b'{"file": "a.jsonl"}\nnonsense\n')
    with pytest.raises(ledger.Damaged, match=r":2: "):
        books.exported()


def test_a_file_taken_out_again_is_no_longer_exported_until_recorded_anew(tmp_path):
    books = ledger.Ledger(tmp_path, tmp_path / "out")
    with books.locked():
        books.append({"file": "a.jsonl", "outputs": ["dt=2026-12-01/a.parquet"]})
        books.append({"file": "b.jsonl", "outputs": []})
        books.append({"file": "a.jsonl", "again": True, "removed": ["dt=2026-12-01/a.parquet"]})
    assert set(books.exported()) == {"b.jsonl"}
    with books.locked():
        books.append({"file": "a.jsonl", "outputs": ["dt=2026-12-02/a.parquet"]})
    assert books.exported()["a.jsonl"]["outputs"] == ["dt=2026-12-02/a.parquet"]


def test_an_erasure_applied_is_recorded_apart_from_the_files(tmp_path):
    books = ledger.Ledger(tmp_path, tmp_path / "out")
    with books.locked():
        books.append({"file": "a.jsonl", "outputs": []})
        books.append({"erasure": "9f" * 32, "files": ["a.jsonl"]})
    assert set(books.exported()) == {"a.jsonl"} and books.applied_erasures() == {"9f" * 32}
