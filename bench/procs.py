"""Start and stop what the benchmark measures: memcached and gunicorn.

gunicorn binds 127.0.0.1:0 and the port is read from its "Listening at" log
line, so nothing races for a port. Every start polls with a deadline; every
process is stopped by its own id (its process group for gunicorn).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_LISTENING = re.compile(r"Listening at: http://[\d.]+:(\d+)")


def wait_until(check, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Memcached:
    """A memcached on a free loopback port, for the deployed shape's rate limits."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def uri(self) -> str:
        return f"memcached://127.0.0.1:{self.port}"

    def start(self) -> "Memcached":
        args = [find_binary("memcached"), "-l", "127.0.0.1", "-p", str(self.port), "-U", "0", "-m", "64"]
        if os.geteuid() == 0:
            args += ["-u", "root"]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self._answers, 10, "memcached to answer")
        return self

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"memcached exited with {self.process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                conn.sendall(b"version\r\n")
                return conn.recv(64).startswith(b"VERSION")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


class Gunicorn:
    """`python -m gunicorn -c gunicorn.conf.py <app>` from the repo root."""

    def __init__(self, app: str, env: dict[str, str], log_path: Path, workers: int) -> None:
        self.app = app
        self.env = env
        self.log_path = log_path
        self.workers = workers
        self.process: subprocess.Popen | None = None
        self.port: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> "Gunicorn":
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", self.app],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.port = int(wait_until(self._listening_port, timeout, "gunicorn to listen"))
        wait_until(lambda: len(self.worker_pids()) == self.workers, timeout, "gunicorn's workers")
        # Every worker must have loaded the app: a few requests per worker.
        for _ in range(4 * self.workers):
            wait_until(self._answers, timeout, f"{self.app} to answer")
        return self

    def _listening_port(self) -> str | None:
        if self.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n{self.log()[-3000:]}")
        with open(self.log_path, "rb") as log:
            match = _LISTENING.search(log.read(65536).decode(errors="replace"))
        return match.group(1) if match else None

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/healthz", timeout=2) as response:
                return response.status < 500
        except urllib.error.HTTPError as error:
            return error.code < 500
        except OSError:
            return False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in children.read_text().split()]
        except FileNotFoundError:
            return []

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

    def stop(self, timeout: float = 30) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


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
