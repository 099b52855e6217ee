"""The stub's contract (branch `finish` replaces the module, and these tests with it)."""

from __future__ import annotations

from collector.store import finishing


def test_open_files_are_listed_and_a_file_still_open_is_not_finished(tmp_path):
    open_file = tmp_path / "events-20261126T050000.000000Z-h-1-000001.jsonl.open"
    open_file.write_bytes(b"")
    (tmp_path / "events-20261126T050000.000000Z-h-1-000000.jsonl").write_bytes(b"")
    assert finishing.open_files(tmp_path) == [open_file]
    assert finishing.ask_workers_to_finish(tmp_path) == 0
    assert not finishing.wait_for_finished(tmp_path, [open_file], timeout=0.0)
    open_file.unlink()
    assert finishing.wait_for_finished(tmp_path, [open_file], timeout=0.0)
