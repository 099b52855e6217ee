"""`collector load postgres` against a real PostgreSQL (tests/postgres.py): every finished file exactly once."""

from __future__ import annotations

import gzip
import hashlib
import json
import signal
import subprocess
import sys
from pathlib import Path

import orjson
import psycopg
import pytest

from collector.loaders import postgres
from tests.processes import ROOT, wait_until
from tests.unit.cli.helpers import run

NAME = "events-20261201T0{}0000.000000Z-vm-a-42-00000{}.jsonl"
BIG_LINES = 300_000


def write_file(data_dir: Path, index: int, lines: int, compressed: bool = False, suffix: str = "") -> str:
    name = NAME.format(index, index)
    body = b"".join(
        orjson.dumps({
            "eventType": "signup" if n % 2 else "page_view",
            "eventId": f"{index}-{n}",
            "userId": f"user-{n}",
            "receivedAt": f"2026-12-01T0{index}:00:00.{n % 1000:03d}Z",
            "timestamp": f"2026-12-01T0{index}:00:00.000Z",
            "properties": {"n": n, "plan": "pro"},
            "client": {"ip": "203.0.113.7"},
        }) + b"\n"
        for n in range(lines)
    )  # fmt: skip
    if compressed:
        (data_dir / (name + ".gz")).write_bytes(gzip.compress(body, compresslevel=1))
    else:
        (data_dir / (name + suffix)).write_bytes(body)
    return name


def counts(dsn: str) -> dict[str, int]:
    with psycopg.connect(dsn) as connection:
        rows = connection.execute("SELECT file, count(*) FROM collector_events GROUP BY file").fetchall()
    return dict(rows)


def ledger(dsn: str) -> dict[str, int]:
    with psycopg.connect(dsn) as connection:
        return dict(connection.execute("SELECT name, lines FROM collector_loaded_files").fetchall())


def test_every_finished_file_is_loaded_once_and_a_second_run_loads_nothing(dsn, tmp_path, capsys):
    plain = write_file(tmp_path, 1, 10)
    compressed = write_file(tmp_path, 2, 20, compressed=True)
    write_file(tmp_path, 3, 5, suffix=".open")  # being written: not loaded
    code, out, err = run(capsys, "load", "postgres", "--dsn", dsn, "--data-dir", str(tmp_path))
    assert (code, out, err) == (0, "loaded 2 files, 30 events\n", "")
    assert counts(dsn) == {plain: 10, compressed: 20}
    assert ledger(dsn) == {plain: 10, compressed: 20}
    with psycopg.connect(dsn) as connection:
        rows = connection.execute("SELECT name, size, sha256 FROM collector_loaded_files").fetchall()
    sizes = {name: (size, sha256) for name, size, sha256 in rows}
    body = gzip.decompress((tmp_path / (compressed + ".gz")).read_bytes())  # the lines, as a plain file holds them
    assert sizes[compressed] == (len(body), hashlib.sha256(body).hexdigest())

    # Compressing a loaded file (COLLECTOR_COMPRESS) does not make it a new file.
    (tmp_path / (plain + ".gz")).write_bytes(gzip.compress((tmp_path / plain).read_bytes()))
    (tmp_path / plain).unlink()
    assert run(capsys, "load", "postgres", "--dsn", dsn, "--data-dir", str(tmp_path))[:2] == (
        0,
        "loaded 0 files, 0 events\n",
    )
    assert counts(dsn) == {plain: 10, compressed: 20}


def test_columns_are_typed_and_nested_fields_are_exact_jsonb(dsn, tmp_path, capsys):
    name = NAME.format(1, 1)
    line = (
        b'{"eventType":"buy","userId":"u\\t\\\\v\\n","receivedAt":"2026-12-01T01:00:00.123Z",'
        b'"properties":{"big":123456789012345678901234567890,"s":"a\\\\b\\tc"},"timestampFlag":"old"}\n'
    )
    (tmp_path / name).write_bytes(line + b"not json\n")
    code, _, err = run(capsys, "load", "postgres", "--dsn", dsn, "--data-dir", str(tmp_path))
    assert code == 0 and f"{name}:2: " in err  # a bad line is reported, never skipped silently
    with psycopg.connect(dsn) as connection:
        row = connection.execute(
            "SELECT event_type, user_id, received_at = '2026-12-01T01:00:00.123Z', "
            "properties->>'big', properties->>'s', extra FROM collector_events"
        ).fetchone()
        # COPY's own escapes (tab, backslash, newline) do not reach the values.
        assert row == ("buy", "u\t\\v\n", True, "123456789012345678901234567890", "a\\b\tc", {"timestampFlag": "old"})
        assert connection.execute("SELECT lines, bad_lines FROM collector_loaded_files").fetchone() == (2, 1)


def test_the_nested_fields_are_written_by_orjson_and_by_the_standard_library_only_beyond_64_bits(
    dsn, tmp_path, capsys, monkeypatch
):
    # The per-row JSON work was most of the loader's time (docs/from-events-to-answers.md):
    # the standard library's json.dumps, 4 times slower, is kept for what orjson cannot write.
    written, dumps = [], json.dumps
    monkeypatch.setattr(postgres.json, "dumps", lambda value, **kw: written.append(value) or dumps(value, **kw))
    (tmp_path / NAME.format(1, 1)).write_bytes(
        b'{"eventType":"a","receivedAt":"2026-12-01T01:00:00Z","properties":{"f":0.1,"s":"\\u00e9\\\\"}}\n'
        b'{"eventType":"b","receivedAt":"2026-12-01T01:00:01Z","properties":{"big":123456789012345678901234567890},'
        b'"context":{"n":-1.5},"planViolations":[{"field":"x"}]}\n'
    )
    code, _, _err = run(capsys, "load", "postgres", "--dsn", dsn, "--data-dir", str(tmp_path))
    assert code == 0
    assert written == [{"big": 123456789012345678901234567890}]
    with psycopg.connect(dsn) as connection:
        rows = connection.execute("SELECT properties, context, extra FROM collector_events ORDER BY line").fetchall()
    assert rows == [
        ({"f": 0.1, "s": "\u00e9\\"}, None, None),
        ({"big": 123456789012345678901234567890}, {"n": -1.5}, {"planViolations": [{"field": "x"}]}),
    ]


def test_a_second_loader_at_the_same_time_loads_nothing(dsn, tmp_path, capsys):
    write_file(tmp_path, 1, 10)
    with psycopg.connect(dsn, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", (postgres.LOCK_KEY,))
        code, out, err = run(capsys, "load", "postgres", "--dsn", dsn, "--data-dir", str(tmp_path))
        assert (code, out) == (0, "") and "another loader" in err
    with psycopg.connect(dsn) as connection:
        assert connection.execute("SELECT to_regclass('collector_events')").fetchone() == (None,)


def loader(dsn: str, data_dir: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "collector", "load", "postgres", "--dsn", dsn, "--data-dir", str(data_dir)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def copying(dsn: str) -> int | None:
    """The pid of the backend copying rows of the big file, once some (not all) are in."""
    with psycopg.connect(dsn, autocommit=True) as connection:
        row = connection.execute(
            # More rows than the small file has: the big file's COPY, not the small one's.
            "SELECT pid FROM pg_stat_progress_copy WHERE tuples_processed > 1000 AND tuples_processed < %s",
            (BIG_LINES // 2,),
        ).fetchone()
    return row[0] if row else None


def lock_is_free(dsn: str) -> bool:
    with psycopg.connect(dsn, autocommit=True) as connection:
        return connection.execute("SELECT pg_try_advisory_lock(%s)", (postgres.LOCK_KEY,)).fetchone()[0]


@pytest.mark.parametrize("cut", ["sigkill", "lost_connection"])
def test_a_loader_cut_off_mid_file_leaves_nothing_of_it_and_the_next_run_loads_it_once(dsn, tmp_path, capsys, cut):
    small = write_file(tmp_path, 1, 10)
    big = write_file(tmp_path, 2, BIG_LINES, compressed=True)
    process = loader(dsn, tmp_path)
    try:
        backend = wait_until(lambda: copying(dsn), 120, "the loader to be copying the big file", interval=0.01)
        if cut == "sigkill":
            process.send_signal(signal.SIGKILL)
        else:
            with psycopg.connect(dsn, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (backend,))
        assert process.wait(timeout=120) != 0
    finally:
        process.kill()
        process.communicate()
    # The server ends the dead connection's transaction, and with it its lock.
    wait_until(lambda: lock_is_free(dsn), 120, "the cut-off loader's session to end")
    assert counts(dsn) == {small: 10}
    assert ledger(dsn) == {small: 10}

    assert run(capsys, "load", "postgres", "--dsn", dsn, "--data-dir", str(tmp_path))[:2] == (
        0,
        f"loaded 1 files, {BIG_LINES} events\n",
    )
    assert counts(dsn) == {small: 10, big: BIG_LINES}
    with psycopg.connect(dsn) as connection:
        assert connection.execute(
            "SELECT count(DISTINCT line) FROM collector_events WHERE file = %s", (big,)
        ).fetchone() == (BIG_LINES,)


def test_a_file_that_cannot_be_loaded_whole_is_not_loaded_at_all_and_named(dsn, tmp_path, capsys):
    good = write_file(tmp_path, 1, 10)
    truncated = write_file(tmp_path, 2, 1000, compressed=True)
    whole = (tmp_path / (truncated + ".gz")).read_bytes()
    (tmp_path / (truncated + ".gz")).write_bytes(whole[: len(whole) // 2])
    refused = NAME.format(3, 3)  # jsonb takes no \u0000 in a string
    (tmp_path / refused).write_bytes(
        b'{"eventType":"a","receivedAt":"2026-12-01T03:00:00Z","properties":{"x":"\\u0000"}}\n'
    )
    code, out, err = run(capsys, "load", "postgres", "--dsn", dsn, "--data-dir", str(tmp_path))
    assert (code, out) == (1, "loaded 1 files, 10 events\n")
    assert truncated in err and f"{refused}: refused by PostgreSQL" in err
    assert counts(dsn) == {good: 10} and ledger(dsn) == {good: 10}
