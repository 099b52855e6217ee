"""SQLite files on a full disk: an error the outage policy can answer, never a SIGBUS that kills the worker."""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import contextmanager

import pytest

from collector.ratelimit.sqlite_storage import FILE_NAME
from tests.servers import ROOT
from tests.system.store.faults import tmpfs

pytestmark = pytest.mark.system

# Another worker holds the file open (so the newcomer does not re-initialise
# the -shm) and says when it has.
HOLDER = """
import sys, time
from pathlib import Path
from collector import sqlitefiles
db = sqlitefiles.connect(Path(sys.argv[1]))
db.execute("CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY, v INTEGER)")
db.execute("INSERT OR REPLACE INTO t VALUES ('a', 1)")
print("held", flush=True)
sys.stdin.read()
"""

NEWCOMER = """
import sqlite3, sys
from pathlib import Path
from collector import sqlitefiles
try:
    db = sqlitefiles.connect(Path(sys.argv[1]))
    db.execute("INSERT OR REPLACE INTO t VALUES ('b', 2)")
except (OSError, sqlite3.Error) as error:
    print("refused:", error)
else:
    print("stored")
"""


def fill(path):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    try:
        while os.write(fd, b"\0" * 4096):
            pass
    except OSError:
        pass  # the disk is full
    finally:
        os.close(fd)


def python(code, *args, **options):
    return subprocess.Popen(
        [sys.executable, "-c", code, *map(str, args)], cwd=ROOT, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, **options,
    )


@contextmanager
def sparse_shm_held_on_a_full_disk(path):
    """`path` in WAL mode, held open by another process, its -shm without disk blocks, the disk full."""
    holder = python(HOLDER, path, stdin=subprocess.PIPE)
    try:
        assert holder.stdout.readline() == "held\n", holder.stderr.read()
        # The -shm without its blocks (sparse), as SQLite's growth or an outside
        # truncate can leave it; then nothing left on the disk to give it any.
        shm = f"{path}-shm"
        size = os.path.getsize(shm)
        os.truncate(shm, 0)
        os.truncate(shm, size)
        fill(path.parent / "filler")
        yield
    finally:
        holder.communicate(input="", timeout=30)


def test_a_shm_file_that_cannot_get_its_blocks_on_a_full_disk_is_an_error_not_a_sigbus(tmp_path):
    with tmpfs(tmp_path / "disk", "1m") as disk:
        path = disk / "state.sqlite"
        with sparse_shm_held_on_a_full_disk(path):
            newcomer = python(NEWCOMER, path)
            out, err = newcomer.communicate(timeout=60)
            # Before: killed by SIGBUS (-7) as SQLite wrote to a page of the mapped -shm.
            assert newcomer.returncode == 0, f"returncode {newcomer.returncode}: {err}"
            assert out.startswith("refused:"), out + err
            # Once there is room again, the same file works.
            (disk / "filler").unlink()
            again = python(NEWCOMER, path)
            assert again.communicate(timeout=60)[0] == "stored\n"


def test_the_rate_limit_file_on_a_full_disk_follows_the_outage_policy_and_kills_no_worker(start_service, tmp_path):
    with tmpfs(tmp_path / "data", "1m") as data_dir, sparse_shm_held_on_a_full_disk(data_dir / FILE_NAME):
        service = start_service(data_dir=data_dir, workers="1", rate_limit_on_error="closed")
        for _ in range(3):
            # Before: the worker died of SIGBUS at its first hit, the client's connection reset.
            response = service.post({"messageBody": [{"eventType": "full"}]})
            assert response.status_code == 503
            assert response.json()["code"] == "limit_storage_unavailable"
        assert "SIGBUS" not in service.log() and "signal 7" not in service.log()
        service.stop()
