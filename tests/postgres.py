"""A real PostgreSQL for the loader's tests: Debian's `postgresql` package, a throwaway cluster.

initdb into a new directory, pg_ctl start on a free port of 127.0.0.1 (trust
authentication: nothing else can reach it), always stopped. PostgreSQL refuses
to run as root, so as root (CI) it runs as the `postgres` user the package made.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.processes import free_port
from tests.servers import IN_CI


def _bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        message = "PostgreSQL is not installed (apt-get install postgresql)"
        if IN_CI:
            pytest.fail(message + ": CI must run every test")
        pytest.skip(message)
    return Path(found[-1]).parent


def _as_server_user(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@contextmanager
def postgres_server() -> Iterator[str]:
    """A running PostgreSQL; its DSN (database `postgres`, user `postgres`)."""
    bin_dir = _bin_dir()
    root = Path(tempfile.mkdtemp(prefix="collector-pg-"))
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(root, user.pw_uid, user.pw_gid)
    data, port = root / "data", free_port()
    try:
        subprocess.run(
            _as_server_user([str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]),
            check=True, capture_output=True,
        )  # fmt: skip
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off"
        start = [str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start"]
        subprocess.run(
            _as_server_user(start),
            check=True, capture_output=True,
        )  # fmt: skip
        try:
            yield f"host=127.0.0.1 port={port} dbname=postgres user=postgres"
        finally:
            subprocess.run(
                _as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
                capture_output=True,
            )  # fmt: skip
    finally:
        shutil.rmtree(root, ignore_errors=True)
