"""Real server processes, started and stopped: gunicorn and memcached.

Standard library only, so that the benchmark (bench/procs.py) starts its
servers with the same code as the system tests (tests/servers.py).

gunicorn binds port 0 and the port is read from its "Listening at" log line,
so parallel runs never race for a port. Every start polls until the server
answers, with a deadline: no sleeps.
"""

from __future__ import annotations

import os
import re
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """`python -m gunicorn -c gunicorn.conf.py <app>` from the repo root, in its own process group.

    `command` (e.g. `collector serve`) and `cwd` start it another way, from elsewhere.
    """

    def __init__(
        self,
        app: str,
        env: dict[str, str],
        log_path: Path,
        args: tuple[str, ...] = (),
        command: list[str] | None = None,
        cwd: Path = ROOT,
    ) -> None:
        self.app = app
        self.env = env
        self.log_path = log_path
        self.args = args  # gunicorn command-line options, over gunicorn.conf.py's
        self.command = command
        self.cwd = cwd
        self.process: subprocess.Popen | None = None
        self.port: int | None = None
        # A listening socket held by the caller and passed as systemd does (socket activation).
        self.listen_socket: socket.socket | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> Gunicorn:
        """Start (or start again: the log is appended to) and wait until it answers."""
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        argv = self.command or [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            str(ROOT / "gunicorn.conf.py"),
            *self.args,
            self.app,
        ]
        pass_fds: tuple[int, ...] = ()
        if self.listen_socket is not None:
            argv, pass_fds = socket_activated(argv, self.listen_socket.fileno())
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                argv,
                cwd=self.cwd,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                pass_fds=pass_fds,
            )
        self.port = int(wait_until(lambda: self._listening_port(offset), timeout, "gunicorn to listen"))
        wait_until(self.answers, timeout, f"{self.app} to answer /healthz")
        return self

    def _listening_port(self, offset: int) -> str | None:
        if self.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n{self.log()[-3000:]}")
        match = _LISTENING.search(self.log()[offset:])
        return match.group(1) if match else None

    def answers(self) -> bool:
        """Whether a worker answers HTTP (any reply but a 5xx)."""
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

    def wait_for_workers(self, count: int, timeout: float = 30) -> list[int]:
        return wait_until(lambda: len(self.worker_pids()) == count and self.worker_pids(), timeout, f"{count} workers")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int | None:
        """Stop with `sig` and wait; the whole process group is killed past `timeout`."""
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            return self.process.wait(10)

    def kill_all(self) -> None:
        """kill -9 the master and every worker at once, as a power cut of the service."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)


# Run in the child: the socket moved to fd 3, LISTEN_PID set to the pid that
# `execv` keeps, which is what systemd does before it runs ExecStart=.
_ACTIVATE = (
    "import os, sys; fd = int(sys.argv[1]); os.dup2(fd, 3); fd != 3 and os.close(fd); "
    "os.environ.update(LISTEN_FDS='1', LISTEN_PID=str(os.getpid())); os.execv(sys.argv[2], sys.argv[2:])"
)


def socket_activated(argv: list[str], fd: int) -> tuple[list[str], tuple[int, ...]]:
    """`argv` started as systemd starts a socket-activated service.

    The socket as fd 3, LISTEN_FDS=1, LISTEN_PID its pid.
    """
    return [sys.executable, "-c", _ACTIVATE, str(fd), *argv], (fd,)


class Memcached:
    """A real memcached on a free loopback port."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def uri(self) -> str:
        return f"memcached://127.0.0.1:{self.port}"

    def start(self) -> Memcached:
        args = [self.binary, "-l", "127.0.0.1", "-p", str(self.port), "-U", "0", "-m", "64"]
        if os.geteuid() == 0:
            args += ["-u", "root"]  # memcached refuses to run as root without it
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

    def stats(self) -> dict[str, str]:
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as conn:
            conn.sendall(b"stats\r\n")
            reply = b""
            while not reply.endswith(b"END\r\n"):
                reply += conn.recv(65536)
        return dict(line.split(" ", 2)[1:] for line in reply.decode().splitlines() if line.startswith("STAT "))

    def flush(self) -> None:
        """`flush_all`: every item forgotten at once, as an operator may do."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as conn:
            conn.sendall(b"flush_all\r\n")
            assert conn.recv(64) == b"OK\r\n"

    def kill(self) -> None:
        """kill -9: an outage, without a goodbye to the clients."""
        self.process.kill()
        self.process.wait(10)

    def pause(self) -> None:
        """SIGSTOP: a hung memcached, which accepts connections and never answers."""
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.resume()
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
