"""Start and stop the real servers the system tests talk to.

gunicorn binds port 0 and the port is read from its log, so parallel runs
never race for a port. Every start polls until the server answers, with a
deadline: no sleeps. In CI (CI=true) a missing server binary is a failure,
never a skip.
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
from pathlib import Path

import orjson
import pytest
import requests

from collector import datafiles

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() == "true"
_LISTENING = re.compile(r"Listening at: http://[\d.]+:(\d+)")


def require_binary(name: str, *extra_dirs: str) -> str:
    """The path of a server binary; skips locally, fails in CI, when missing."""
    path = shutil.which(name, path=os.pathsep.join([os.environ.get("PATH", ""), *extra_dirs]))
    if path:
        return path
    message = f"{name} is not installed (apt-get install {name})"
    if IN_CI:
        pytest.fail(message + ": CI must run every system test")
    pytest.skip(message)


def wait_until(check, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class Service:
    """The collector under gunicorn in a subprocess."""

    def __init__(self, data_dir: Path, env: dict[str, str], log_path: Path) -> None:
        self.data_dir = data_dir
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen | None = None
        self.port: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> "Service":
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "app:app"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        offset = self.log_path.stat().st_size if self.port else 0
        self.port = int(wait_until(lambda: self._listening_port(offset), timeout, "gunicorn to listen"))
        wait_until(self._answers, timeout, "the service to answer /healthz")
        return self

    def _listening_port(self, offset: int) -> str | None:
        if self.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n{self.log()}")
        match = _LISTENING.search(self.log_path.read_text(errors="replace")[offset:])
        return match.group(1) if match else None

    def _answers(self) -> bool:
        try:
            return requests.get(self.url + "/healthz", timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def wait_for_workers(self, count: int, timeout: float = 30) -> list[int]:
        """Worker pids once `count` workers are up and each answers."""
        pids = wait_until(lambda: len(self.worker_pids()) == count and self.worker_pids(), timeout, f"{count} workers")
        wait_until(lambda: "Booting worker" in self.log() and self.log().count("collector configured") >= count, timeout, "workers to load the app")
        return pids

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int | None:
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

    def post(self, body, *, headers=None, **kwargs) -> requests.Response:
        data = body if isinstance(body, (bytes, str)) or hasattr(body, "__next__") else orjson.dumps(body)
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        kwargs.setdefault("timeout", 30)
        return requests.post(self.url + "/collect/event", data=data, headers=all_headers, **kwargs)

    def events(self) -> list[dict]:
        return read_events(self.data_dir)


def read_events(data_dir: Path) -> list[dict]:
    """Every stored event, each line checked to be whole JSON."""
    events = []
    for path in datafiles.data_files(Path(data_dir)):
        for line in datafiles.iter_lines(path):
            assert line.endswith(b"\n"), f"partial line in {path.name}: {line[:80]!r}"
            events.append(orjson.loads(line))
    return events


def service_env(data_dir: Path, **settings: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("COLLECTOR_")}
    env.update(
        COLLECTOR_DATA_DIR=str(data_dir),
        COLLECTOR_BIND="127.0.0.1:0",
        COLLECTOR_LOG_LEVEL="info",
        # The product's short memcached timeout (0.2 s) is tested on its own;
        # elsewhere a loaded 2-core CI machine must not turn a slow answer
        # into an unchecked request and a flaky exact count.
        COLLECTOR_RATE_LIMIT_TIMEOUT="2",
    )
    env.update({f"COLLECTOR_{key.upper()}": str(value) for key, value in settings.items()})
    return env


class Memcached:
    """A real memcached on a free loopback port."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def uri(self) -> str:
        return f"memcached://127.0.0.1:{self.port}"

    def start(self) -> "Memcached":
        self.process = subprocess.Popen(
            [self.binary, "-l", "127.0.0.1", "-p", str(self.port), "-U", "0", "-m", "64", "-u", "root"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
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
            self.process.wait(10)


NGINX_CONF = """
user root;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    upstream collector {{
        server 127.0.0.1:{upstream};
        keepalive 8;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://collector;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Forwarded-For {forwarded_for};
        }}
    }}
}}
"""


def _shipped_conf(shipped: Path, prefix: Path, upstream_port: int, port: int) -> str:
    """The shipped server config, as is but for its two addresses, in a minimal nginx.conf."""
    server = shipped.read_text()
    for marked, address in (("127.0.0.1:8000;", f"127.0.0.1:{upstream_port};"), ("listen 80;", f"listen 127.0.0.1:{port};")):
        assert server.count(marked) == 1, f"{shipped.name} should hold {marked!r} once"
        server = server.replace(marked, address)
    (prefix / "collector.conf").write_text(server)
    head = NGINX_CONF[: NGINX_CONF.index("    upstream collector")].format(prefix=prefix)
    return head + f"    include {prefix / 'collector.conf'};\n}}\n"


class Nginx:
    """A real nginx in front of the service, its config and files under `prefix`."""

    def __init__(
        self, binary: str, prefix: Path, upstream_port: int, forwarded_for: str, shipped: Path | None = None
    ) -> None:
        """nginx with the tests' own server block, or with `shipped` (deploy/nginx-collector.conf)."""
        self.binary = binary
        self.prefix = prefix
        self.port = free_port()
        prefix.mkdir(parents=True, exist_ok=True)
        self.conf = prefix / "nginx.conf"
        if shipped is None:
            text = NGINX_CONF.format(prefix=prefix, upstream=upstream_port, port=self.port, forwarded_for=forwarded_for)
        else:
            text = _shipped_conf(shipped, prefix, upstream_port, self.port)
        self.conf.write_text(text)
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Nginx":
        self.process = subprocess.Popen(
            [self.binary, "-e", str(self.prefix / "error.log"), "-c", str(self.conf), "-p", str(self.prefix), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_until(self._answers, 10, "nginx to answer")
        return self

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"nginx exited with {self.process.returncode}: {(self.prefix / 'error.log').read_text()}")
        try:
            return requests.get(self.url + "/healthz", timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
