"""Start and stop what the benchmark measures: memcached and gunicorn.

The processes are started by tests/processes.py, the code the system tests use
(standard library only): gunicorn binds 127.0.0.1:0 and the port is read from
its log, every start polls with a deadline, every process is stopped by its id.
This module adds what only the benchmark needs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # for tests.processes, ahead of any other `tests` package

from tests import processes  # noqa: E402  (after sys.path has the checkout)
from tests.processes import free_port, wait_until  # noqa: E402,F401  (the same; used by the other bench modules)


def ensure_apt_packages(*names: str) -> None:
    """apt-get install the binaries (wrk, memcached) that are not on PATH yet."""
    missing = [name for name in names if not find_binary(name)]
    if not missing:
        return
    print(f"installing {' '.join(missing)} with apt-get", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], check=True, env=env
    )


def find_binary(name: str) -> str | None:
    return shutil.which(name, path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/bin"]))


def start_memcached() -> processes.Memcached:
    return processes.Memcached(find_binary("memcached")).start()


class Gunicorn(processes.Gunicorn):
    """gunicorn with all its workers up and answering, and their memory use."""

    def __init__(
        self, app: str, env: dict[str, str], log_path: Path, workers: int, args: tuple[str, ...] = (), **started_as
    ) -> None:
        """`started_as`: `command` and `cwd`, to start it from another tree (see beforetree.py)."""
        super().__init__(app, env, log_path, args, **started_as)
        self.workers = workers

    def start(self, timeout: float = 30) -> Gunicorn:
        super().start(timeout)
        self.wait_for_workers(self.workers, timeout)
        # Every worker must have loaded the app: a few requests per worker.
        for _ in range(4 * self.workers):
            wait_until(self.answers, timeout, f"{self.app} to answer")
        return self

    def worker_rss_mb(self) -> list[float]:
        """VmRSS of each worker, in MB (MiB)."""
        sizes = []
        for pid in self.worker_pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except FileNotFoundError:
                continue
            for line in status.splitlines():
                if line.startswith("VmRSS:"):
                    sizes.append(int(line.split()[1]) / 1024)
        return sizes


def post_once(url: str, body: bytes) -> tuple[int, dict[str, str]]:
    """One POST, for checks before a measurement: (status, headers)."""
    request = urllib.request.Request(
        url + "/collect/event", data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)
