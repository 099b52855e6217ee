"""The table `events` in DuckDB, fed by the store's reader."""

from __future__ import annotations

import multiprocessing
import tempfile
from pathlib import Path

import duckdb
import pytest

from collector.query import loading

GOOD = b'{"eventType":"a","receivedAt":"2026-11-26T05:00:00.000Z"}\n'


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


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    """Where the query's temporary files go (TMPDIR), to see them removed."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _store(data, *lines_of_files):
    data.mkdir()
    for number, lines in enumerate(lines_of_files, start=1):
        (data / f"events-20261126T05{number:02d}00.000000Z-h-{number}-000001.jsonl").write_bytes(b"".join(lines))
    return data


def test_the_temporary_files_are_removed_after_a_query(tmp_path, scratch):
    data = _store(tmp_path / "data", [GOOD], [GOOD, GOOD])
    with loading.opened([data], jobs=2) as connection:
        assert list(scratch.iterdir())  # DuckDB's spill directory and the workers' files are there
        assert loading.run(connection, "select count(*) from events").rows == [(3,)]
    assert list(scratch.iterdir()) == []


def test_the_temporary_files_are_removed_when_duckdb_fails(tmp_path, scratch):
    # A time Python reads (an ISO week date) that DuckDB's cast refuses: the INSERT fails.
    data = _store(tmp_path / "data", [GOOD], [b'{"eventType":"a","receivedAt":"2026-W48-4"}\n'])
    with pytest.raises(duckdb.Error), loading.opened([data], jobs=2):
        pass
    assert list(scratch.iterdir()) == []


def test_ctrl_c_ends_the_workers_and_removes_their_files(tmp_path, scratch):
    data = _store(tmp_path / "data", *([GOOD] * 1000 + [b"bad\n"] for _ in range(6)))

    def interrupted(problem):
        raise KeyboardInterrupt  # as Ctrl-C would, in this process, while the workers read

    with pytest.raises(KeyboardInterrupt), loading.opened([data], on_problem=interrupted, jobs=2):
        pass
    assert multiprocessing.active_children() == []
    assert list(scratch.iterdir()) == []


def test_the_columns_read_in_one_pass_are_those_read_one_by_one(tmp_path):
    data = _store(
        tmp_path / "data",
        [
            b'{"eventType":"a","receivedAt":"2026-11-26T05:00:00.000Z","userId":null,"properties":null,'
            b'"timestamp":"not a time","clockSkewSeconds":1.5,"client":{"n":123456789012345678901234567890},'
            b'"sessionId":"s\\u00e9\\"","timestampFlag":true,"planViolations":[{"f":"x"}]}\n',
            GOOD,
        ],
    )
    # Each column beside the same field read alone, as the table was built before (one `->>` a column).
    one_by_one = ", ".join(
        [
            *(f"event->>'$.{name}' IS NOT DISTINCT FROM \"{name}\"" for name in loading.TEXT_FIELDS),
            *(f"CAST(event->'$.{name}' AS VARCHAR) IS NOT DISTINCT FROM \"{name}\"" for name in loading.JSON_FIELDS),
            *(
                f"try_cast(event->>'$.{name}' AS TIMESTAMPTZ) IS NOT DISTINCT FROM \"{name}\""
                for name in (*loading.TIME_FIELDS, "receivedAt")
            ),
            "try_cast(event->>'$.clockSkewSeconds' AS DOUBLE) IS NOT DISTINCT FROM \"clockSkewSeconds\"",
        ]
    )
    with loading.opened([data], jobs=1) as connection:
        rows = loading.run(connection, f"select {one_by_one} from events").rows
        client, skew = loading.run(
            connection, 'select client, "clockSkewSeconds" from events where client is not null'
        ).rows[0]
    assert rows == [(True,) * len(rows[0])] * 2
    assert (client, skew) == ('{"n":123456789012345678901234567890}', 1.5)
