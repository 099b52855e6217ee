"""The real servers the system tests talk to: the collector, memcached, nginx.

Process handling lives in tests/processes.py, shared with the benchmark. In
CI (CI=true) a missing server binary is a failure, never a skip.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import orjson
import pytest
import requests

from collector.store import datafiles
from tests.processes import ROOT, Gunicorn, Memcached, free_port, wait_until  # noqa: F401  (re-exported)

IN_CI = os.environ.get("CI", "").lower() == "true"


def require_binary(name: str, *extra_dirs: str) -> str:
    """The path of a server binary; skips locally, fails in CI, when missing."""
    path = shutil.which(name, path=os.pathsep.join([os.environ.get("PATH", ""), *extra_dirs]))
    if path:
        return path
    message = f"{name} is not installed (apt-get install {name})"
    if IN_CI:
        pytest.fail(message + ": CI must run every system test")
    pytest.skip(message)


class Service(Gunicorn):
    """The collector under gunicorn in a subprocess, with its data directory."""

    def __init__(self, data_dir: Path, env: dict[str, str], log_path: Path) -> None:
        super().__init__("app:app", env, log_path)
        self.data_dir = data_dir

    def wait_for_workers(self, count: int, timeout: float = 30) -> list[int]:
        """Worker pids once `count` workers are up and each has loaded the app."""
        pids = super().wait_for_workers(count, timeout)
        wait_until(lambda: self.log().count("collector configured") >= count, timeout, "workers to load the app")
        return pids

    def post(self, body, *, headers=None, **kwargs) -> requests.Response:
        data = body if isinstance(body, (bytes, str)) or hasattr(body, "__next__") else orjson.dumps(body)
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        kwargs.setdefault("timeout", 30)
        return requests.post(self.url + "/collect/event", data=data, headers=all_headers, **kwargs)

    def events(self) -> list[dict]:
        return read_events(self.data_dir)

    def server_errors(self) -> list[str]:
        """Log lines that betray a bug: a traceback, or a request answered 500."""
        return server_errors(self.log()) if self.log_path.exists() else []


# gunicorn's access log, as text (... "POST /collect/event HTTP/1.1" 500 79 "-" "curl/8.0")
# or as JSON (... "status":500, ...).
_ANSWERED_500 = re.compile(r'" 500 \d+ "|"status":500\b')


def server_errors(log: str) -> list[str]:
    lines = log.splitlines()
    found = []
    for number, line in enumerate(lines):
        if "Traceback (most recent call last)" in line:
            found.append("\n".join(lines[max(0, number - 1) : number + 30]))
        elif _ANSWERED_500.search(line):
            found.append(line)
    return found


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
