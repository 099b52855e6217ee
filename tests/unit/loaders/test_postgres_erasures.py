"""An erasure after loading reaches PostgreSQL: the next `collector load postgres` replaces what it had loaded of
the files the erasure rewrote or removed (named in erasures.log), each erasure applied once, atomically."""

from __future__ import annotations

import gzip
import signal

import orjson
import psycopg

from tests.processes import wait_until
from tests.unit.cli.helpers import run
from tests.unit.loaders.test_postgres import BIG_LINES, copying, loader, lock_is_free, write_file

ERASED = "user-3"


def rows(dsn: str) -> list[tuple[str, int, str]]:
    with psycopg.connect(dsn) as connection:
        return connection.execute("SELECT file, line, user_id FROM collector_events ORDER BY file, line").fetchall()


def load(capsys, dsn, data_dir) -> tuple[int, str, str]:
    return run(capsys, "load", "postgres", "--dsn", dsn, "--data-dir", str(data_dir))


def test_a_forget_after_loading_is_applied_by_the_next_run_and_only_once(dsn, tmp_path, capsys):
    plain = write_file(tmp_path, 1, 10)
    compressed = write_file(tmp_path, 2, 10, compressed=True)
    # A file of the person's events only: the erasure removes it.
    alone = "events-20261201T050000.000000Z-vm-a-42-000005.jsonl"
    (tmp_path / alone).write_bytes(
        orjson.dumps({"eventType": "t", "userId": ERASED, "receivedAt": "2026-12-01T05:00:00.000Z"}) + b"\n"
    )
    assert load(capsys, dsn, tmp_path)[0] == 0
    before = rows(dsn)
    assert sum(1 for row in before if row[2] == ERASED) == 3

    code, _out, err = run(capsys, "events", "forget", "--user-id", ERASED, "--data-dir", str(tmp_path))
    assert code == 0, err
    assert not (tmp_path / alone).exists()

    code, out, err = load(capsys, dsn, tmp_path)
    assert code == 0, err
    after = rows(dsn)
    assert [row for row in after if row[2] == ERASED] == []
    # Every other event once, as before (lines renumbered in the rewritten files).
    assert sorted(row[2] for row in after) == sorted(row[2] for row in before if row[2] != ERASED)
    assert {row[0] for row in after} == {plain, compressed}
    assert "erasure" in out
    with psycopg.connect(dsn) as connection:
        ledger = dict(connection.execute("SELECT name, lines FROM collector_loaded_files").fetchall())
    assert ledger == {plain: 9, compressed: 9}

    # The rewritten file is compressed later: neither loaded again nor the erasure applied twice.
    path = tmp_path / plain
    (tmp_path / (plain + ".gz")).write_bytes(gzip.compress(path.read_bytes()))
    path.unlink()
    assert load(capsys, dsn, tmp_path)[0] == 0
    assert rows(dsn) == after


def test_an_anonymisation_after_loading_replaces_the_ids_in_postgres(dsn, tmp_path, capsys):
    name = write_file(tmp_path, 1, 10)
    assert load(capsys, dsn, tmp_path)[0] == 0
    code, _out, err = run(capsys, "events", "forget", "--anonymise", "--user-id", ERASED, "--data-dir", str(tmp_path))
    assert code == 0, err
    assert load(capsys, dsn, tmp_path)[0] == 0
    after = rows(dsn)
    assert len(after) == 10 and {row[0] for row in after} == {name}
    assert ERASED not in {row[2] for row in after}
    assert sum(1 for row in after if row[2].startswith("hmac:")) == 1


def test_an_erasure_of_a_file_not_loaded_yet_needs_nothing_more(dsn, tmp_path, capsys):
    name = write_file(tmp_path, 1, 10)
    code, _out, err = run(capsys, "events", "forget", "--user-id", ERASED, "--data-dir", str(tmp_path))
    assert code == 0, err
    assert load(capsys, dsn, tmp_path)[0] == 0
    assert len(rows(dsn)) == 9 and ERASED not in {row[2] for row in rows(dsn)}
    assert load(capsys, dsn, tmp_path)[0] == 0
    assert len(rows(dsn)) == 9 and {row[0] for row in rows(dsn)} == {name}


def test_a_loader_killed_while_applying_an_erasure_leaves_the_rows_as_they_were_and_the_next_run_applies_it(
    dsn, tmp_path, capsys
):
    big = write_file(tmp_path, 2, BIG_LINES, compressed=True)
    assert load(capsys, dsn, tmp_path)[0] == 0
    code, _out, err = run(capsys, "events", "forget", "--user-id", ERASED, "--data-dir", str(tmp_path))
    assert code == 0, err
    process = loader(dsn, tmp_path)
    try:
        wait_until(lambda: copying(dsn), 120, "the loader to be loading the erased file again", interval=0.01)
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=120) != 0
    finally:
        process.kill()
        process.communicate()
    wait_until(lambda: lock_is_free(dsn), 120, "the killed loader's session to end")
    assert len(rows(dsn)) == BIG_LINES  # as before the erasure: rolled back whole, never half

    code, out, err = load(capsys, dsn, tmp_path)
    assert (code, out) == (0, "loaded 0 files, 0 events; applied 1 erasures (erasures.log)\n"), err
    with psycopg.connect(dsn) as connection:
        assert connection.execute(
            "SELECT count(*), count(DISTINCT line), count(*) FILTER (WHERE user_id = %s) FROM collector_events "
            "WHERE file = %s",
            (ERASED, big),
        ).fetchone() == (BIG_LINES - 1, BIG_LINES - 1, 0)
