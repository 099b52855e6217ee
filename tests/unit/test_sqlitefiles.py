"""The -shm file gets its blocks before SQLite maps it, keeping what is in it."""

from __future__ import annotations

import os
import subprocess
import sys

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


# Another process asks for a write lock on SQLite's "DMS" byte of the -shm (offset 128,
# see os_unix.c): it cannot get it while a connection of ours holds its read lock.
PROBE = """
import fcntl, sys
with open(sys.argv[1], "r+b") as shm:
    try:
        fcntl.lockf(shm, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 128)
    except OSError:
        print("locked")
    else:
        print("unlocked")
"""


def test_a_second_connection_of_a_process_keeps_sqlites_lock_on_the_shm(tmp_path):
    # Closing any descriptor of a file drops the process's POSIX locks on it: a second
    # reservation would leave the first connection's -shm free for another process to truncate.
    path = tmp_path / "shared.sqlite"
    first = sqlitefiles.connect(path)
    first.execute("CREATE TABLE t (k TEXT)")
    second = sqlitefiles.connect(path)  # e.g. another thread of the worker
    probe = subprocess.run([sys.executable, "-c", PROBE, f"{path}-shm"], capture_output=True, text=True, timeout=60)
    assert probe.stdout == "locked\n", probe.stderr
    first.close()
    second.close()
