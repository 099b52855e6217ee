"""The real servers the system tests talk to: the collector, memcached, nginx.

Process handling lives in tests/processes.py, shared with the benchmark. In
CI (CI=true) a missing server binary is a failure, never a skip.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
from collections.abc import Sequence
from pathlib import Path

import orjson
import pytest
import requests

from collector.settings import load_settings
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

    def __init__(self, data_dir: Path, env: dict[str, str], log_path: Path, **how) -> None:
        super().__init__("app:app", env, log_path, **how)
        self.data_dir = data_dir

    def start(self, timeout: float = 30) -> Service:
        """Start (or start again) and wait until every worker its settings ask for has loaded the app.

        gunicorn spawns workers one by one, with random pauses, and each then
        loads the app: the first answers /healthz well before the last is up.
        A test that counted workers (`collector_workers`), or sent a burst
        meant for all of them, right after a start that returned at the first
        answer passed or failed with the scheduler of a busy machine.
        """
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        super().start(timeout)
        settings = load_settings(self.env)
        count = settings.worker_processes()
        super().wait_for_workers(count, timeout)
        if settings.log_level in ("debug", "info"):  # the line is logged at info
            def configured() -> bool:
                return self.log_path.read_bytes()[offset:].count(b"collector configured") >= count

            wait_until(configured, timeout, f"{count} workers to load the app")
        return self

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


# nginx: the stock Debian/Ubuntu layout with the shipped recipe in it, as on a
# user's VM, or (for tests about X-Forwarded-For variants) a minimal config.

STOCK_NGINX = Path("/etc/nginx")
SHIPPED_NGINX = ROOT / "deploy" / "nginx-collector.conf"


def _unavailable(message: str):
    """Skip locally, fail in CI: every system test must run there."""
    if IN_CI:
        pytest.fail(message + ": CI must run every system test")
    pytest.skip(message)


def stock_nginx_file(relative: str) -> str:
    """A config file as Debian's nginx package installed it under /etc/nginx.

    Refused (skip locally, fail in CI) when missing, or when dpkg says it was
    edited since: the tests reproduce a fresh `apt-get install nginx`.
    """
    path = STOCK_NGINX / relative
    if not path.is_file():
        _unavailable(f"{path} is missing (apt-get install nginx ships it)")
    content = path.read_bytes()
    shipped_md5 = _dpkg_conffile_md5(str(path))
    if shipped_md5 is not None and hashlib.md5(content).hexdigest() != shipped_md5:
        _unavailable(
            f"{path} differs from the one nginx's package installed (dpkg-query -W -f='${{Conffiles}}' nginx-common)"
        )
    return content.decode()


def _dpkg_conffile_md5(path: str) -> str | None:
    """The md5 dpkg recorded for a conffile of nginx-common; None where dpkg does not know it."""
    try:
        listing = subprocess.run(
            ["dpkg-query", "-W", "-f=${Conffiles}", "nginx-common"], capture_output=True, text=True, timeout=30
        ).stdout
    except FileNotFoundError:
        return None
    for line in listing.splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0] == path:
            return fields[1]
    return None


def _replace_once(text: str, pattern: str, replacement: str, what: str) -> str:
    text, count = re.subn(pattern, lambda match: match.expand(replacement), text, flags=re.M)
    assert count == 1, f"expected one {what} in the stock nginx.conf, found {count}"
    return text


def stock_nginx_conf(prefix: Path) -> str:
    """The package's nginx.conf, with only what a test cannot use moved under `prefix`.

    pid, logs, temp files and the two include directories of server configs
    (conf.d, sites-enabled) point into `prefix`; `user` is the test's (a
    www-data worker could not write under a root-only tmp dir). Everything
    else (modules, mime.types, gzip, ...) is the package's, as on a VM.
    """
    text = stock_nginx_file("nginx.conf")
    user = "user root;" if os.geteuid() == 0 else "# test: runs as the test's user"
    text = _replace_once(text, r"^user\s+\S+;", user, "user")
    text = _replace_once(text, r"^pid\s+\S+;", f"pid {prefix}/nginx.pid;", "pid")
    text = _replace_once(
        text, r"^(\s*)include\s+/etc/nginx/conf\.d/\*\.conf;", rf"\1include {prefix}/conf.d/*.conf;", "conf.d include"
    )
    text = _replace_once(
        text,
        r"^(\s*)include\s+/etc/nginx/sites-enabled/\*;",
        rf"\1include {prefix}/sites-enabled/*;",
        "sites-enabled include",
    )
    text = re.sub(r"^(\s*)error_log\s+\S+;", f"\\1error_log {prefix}/error.log;", text, flags=re.M)
    text = re.sub(r"^(\s*)access_log\s+\S+;", f"\\1access_log {prefix}/access.log;", text, flags=re.M)
    temp = "".join(f"\t{kind}_temp_path {prefix}/{name};\n" for kind, name in _TEMP_PATHS)
    text = _replace_once(
        text, r"^http\s*\{\n", "http {\n\t# test: temp files under the test's directory\n" + temp, "http block"
    )
    return text


_TEMP_PATHS = (
    ("client_body", "body"),
    ("proxy", "proxy"),
    ("fastcgi", "fastcgi"),
    ("uwsgi", "uwsgi"),
    ("scgi", "scgi"),
)
_LISTEN_80 = re.compile(r"^(\s*listen\s+)(\[::\]:)?80(?=[\s;])", re.M)


def listening_on(site: str, port: int, ipv6: bool) -> str:
    """A site config with its `listen 80` and `listen [::]:80` on loopback, at `port`.

    Without an IPv6 loopback (some containers) the `[::]:80` lines are
    commented out. Any other listen (443 ...) is refused: the tests would
    not see it.
    """

    def replace(match: re.Match) -> str:
        if not match.group(2):
            return f"{match.group(1)}127.0.0.1:{port}"
        return f"{match.group(1)}[::1]:{port}" if ipv6 else f"# test: no IPv6 loopback here: {match.group(0).lstrip()}"

    rewritten, count = _LISTEN_80.subn(replace, site)
    others = [line for line in rewritten.splitlines() if re.match(r"\s*listen\s", line) and f":{port}" not in line]
    assert count and not others, f"a site should listen on port 80 only, found {others or 'no listen 80'}"
    return rewritten


def has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
        return True
    except OSError:
        return False


def upstream_on(site: str, ports: Sequence[int], upstream_block: str | None = None) -> str:
    """A site config whose `upstream collector` block sends to the services at `ports`.

    With `upstream_block` (docs/scaling-out.md's, for several VMs), that block replaces
    the site's own. Its `server` addresses are replaced by the services', in
    order, the rest of each line kept.
    """
    block = re.search(r"^upstream collector \{\n.*?^\}\n", site, re.M | re.S)
    assert block, "the site should have an `upstream collector { ... }` block"
    new_block = upstream_block if upstream_block is not None else block.group(0)
    addresses = re.findall(r"^\s*server\s+(\S+?)[\s;]", new_block, re.M)
    assert len(addresses) == len(ports), f"the upstream block names {addresses}, the test runs {len(ports)} services"
    for address, port in zip(addresses, ports, strict=True):
        new_block = re.sub(
            rf"(^\s*server\s+){re.escape(address)}(?=[\s;])", rf"\g<1>127.0.0.1:{port}", new_block, count=1, flags=re.M
        )
    return site[: block.start()] + new_block + site[block.end() :]


DOCS = ROOT / "docs"


def doc_section(page: str, title: str) -> str:
    """The text of the `## title` section of docs/<page> (the manual), up to the next `## `."""
    text = (DOCS / page).read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def recipe_site(workdir: Path, ports: Sequence[int], upstream_block: str | None = None) -> tuple[str, str]:
    """deploy/nginx-collector.conf set up as "Behind nginx" says, sending to the services at `ports`.

    docs/deploying.md's own `sed -i ... /etc/nginx/sites-available/collector` sets the
    server name, run on a copy in `workdir`. Returns the site and that name.
    """
    commands = [line for line in doc_section("deploying.md", "Behind nginx").splitlines() if line.startswith("sed -i ")]
    assert len(commands) == 1, f'"Behind nginx" should show one `sed -i` setting the server name, not {commands}'
    argv = shlex.split(commands[0])
    assert argv[:2] == ["sed", "-i"] and argv[-1] == "/etc/nginx/sites-available/collector", commands[0]
    copy = workdir / "sites-available-collector"
    copy.write_text(upstream_on(SHIPPED_NGINX.read_text(), ports, upstream_block))
    subprocess.run([*argv[:-1], str(copy)], check=True, timeout=30)
    site = copy.read_text()
    [server_name] = re.findall(r"^\s*server_name\s+(\S+?);", site, re.M)
    return site, server_name


MINIMAL_NGINX_CONF = """
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


class Nginx:
    """A real nginx on a free loopback port, its config and files under `prefix`."""

    def __init__(self, binary: str, prefix: Path) -> None:
        self.binary = binary
        self.prefix = prefix
        self.port = free_port()
        self.conf = prefix / "nginx.conf"
        self.process: subprocess.Popen | None = None
        self._path_prefix: list[str] = []
        prefix.mkdir(parents=True, exist_ok=True)

    @classmethod
    def minimal(cls, binary: str, prefix: Path, upstream_port: int, forwarded_for: str) -> Nginx:
        """The tests' own one-server config, X-Forwarded-For set to `forwarded_for`."""
        nginx = cls(binary, prefix)
        nginx.conf.write_text(
            MINIMAL_NGINX_CONF.format(
                prefix=prefix, upstream=upstream_port, port=nginx.port, forwarded_for=forwarded_for
            )
        )
        nginx._path_prefix = ["-p", str(prefix)]
        return nginx

    @classmethod
    def stock(cls, binary: str, prefix: Path, sites: dict[str, str]) -> Nginx:
        """The package's nginx.conf with `sites` (name: config) in sites-available and enabled.

        Each site's `listen 80` is moved to this nginx's port on loopback, its logs under `prefix`.
        No -p: module paths resolve against the package's prefix, as on a VM.
        """
        nginx = cls(binary, prefix)
        conf = stock_nginx_conf(prefix)
        for directory in ("conf.d", "sites-available", "sites-enabled"):
            (prefix / directory).mkdir(exist_ok=True)
        ipv6 = has_ipv6_loopback()
        for name, site in sites.items():
            site = site.replace("/var/log/nginx/", f"{prefix}/")
            (prefix / "sites-available" / name).write_text(listening_on(site, nginx.port, ipv6))
            (prefix / "sites-enabled" / name).symlink_to(prefix / "sites-available" / name)
        nginx.conf.write_text(conf)
        return nginx

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self, *args: str) -> list[str]:
        return [self.binary, "-e", str(self.prefix / "error.log"), "-c", str(self.conf), *self._path_prefix, *args]

    def check_config(self) -> subprocess.CompletedProcess:
        """`nginx -t`: whether nginx would start with this config, and why not."""
        return subprocess.run(self.command("-t"), capture_output=True, text=True, timeout=30)

    def start(self) -> Nginx:
        self.process = subprocess.Popen(
            self.command("-g", "daemon off;"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_until(self._answers, 10, "nginx to answer")
        return self

    def error_log(self) -> str:
        path = self.prefix / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _answers(self) -> bool:
        """Any HTTP answer: which server block answers depends on the Host, and is for the test to check."""
        if self.process.poll() is not None:
            raise RuntimeError(f"nginx exited with {self.process.returncode}: {self.error_log()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as conn:
                conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: nginx-started.invalid\r\nConnection: close\r\n\r\n")
                return conn.recv(16).startswith(b"HTTP/1.1 ")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
