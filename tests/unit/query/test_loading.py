"""The table `events` in DuckDB, fed by the store's reader."""

from __future__ import annotations

from pathlib import Path

from collector.query import loading


def test_duckdb_spills_to_a_temporary_directory_removed_afterwards(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with loading.opened([tmp_path]) as connection:
        (spill,) = connection.execute("select current_setting('temp_directory')").fetchone()
        assert Path(spill).parent.exists() and Path(spill).parent != tmp_path
    assert not Path(spill).parent.exists()
    assert not (tmp_path / ".tmp").exists()


def test_the_events_of_the_window_only(tmp_path):
    (tmp_path / "events-20261126T050000.000000Z-h-1-000001.jsonl").write_bytes(
        b'{"eventType":"a","receivedAt":"2026-11-26T05:00:00.000Z","n":123456789012345678901234567890}\n'
        b'{"eventType":"b","receivedAt":"2026-11-26T06:00:00.000Z"}\n'
    )
    with loading.opened([tmp_path], until=loading.reading.parse_time("2026-11-26T06:00:00Z")) as connection:
        answer = loading.run(connection, "select eventType, event->>'$.n' from events")
    assert answer.rows == [("a", "123456789012345678901234567890")]
