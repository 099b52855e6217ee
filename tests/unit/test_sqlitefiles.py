"""The -shm file gets its blocks before SQLite maps it, keeping what is in it."""

from __future__ import annotations

import os

from collector import sqlitefiles


def test_reserving_the_shm_gives_a_sparse_file_blocks_and_keeps_its_bytes(tmp_path):
    path = tmp_path / "state.sqlite"
    shm = tmp_path / "state.sqlite-shm"
    with open(shm, "wb") as stream:
        stream.write(b"header")
        stream.truncate(65536)  # the rest a hole
    sqlitefiles.reserve_shm(path)
    assert shm.read_bytes() == b"header" + bytes(65536 - 6)
    assert os.stat(shm).st_blocks * 512 >= 65536


def test_a_new_database_works_with_its_reserved_shm(tmp_path):
    db = sqlitefiles.connect(tmp_path / "new.sqlite")
    db.execute("CREATE TABLE t (k TEXT)")
    db.execute("INSERT INTO t VALUES ('a')")
    assert db.execute("SELECT k FROM t").fetchall() == [("a",)]
    db.close()
