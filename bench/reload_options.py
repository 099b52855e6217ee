"""Measure the ways to restart workers without resetting connections (issue 20), in one run.

    python bench/reload_options.py        # as root: runs in a network namespace of its own

Each option serves 2 workers x 4 threads on a fixed port and is measured for:
connection errors through max_requests recycling (400 requests, 8 clients, a
new connection each, --max-requests 40) and through 3 SIGHUP reloads under the
same load; the spread of 16 keep-alive connections opened at once (20 bursts:
how many left a worker without a request, and the busiest worker's median
share); and the slowest of 20 requests on a new connection while 64 idle
keep-alive connections are held open (nginx's upstream pool: `keepalive 32`
x 2 nginx workers). Results go to bench/RESULTS-reloads.md.

The whole run is in a network namespace of its own (`unshare -n`), so that
net.ipv4.tcp_migrate_req can be set for one option without touching the
host's. Standard library only, with gunicorn from the service's venv.
"""

from __future__ import annotations

import collections
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# After sys.path has the checkout (E402), for tests.* and the app gunicorn loads.
from gunicorn.workers.gthread import TConn, ThreadWorker  # noqa: E402

from tests.churn import post_on_new_connections  # noqa: E402
from tests.processes import Gunicorn, free_port, wait_until  # noqa: E402

MIGRATE = Path("/proc/sys/net/ipv4/tcp_migrate_req")
SHARED = "bench.reload_options"
# label -> (gunicorn options over gunicorn.conf.py's, tcp_migrate_req)
OPTIONS = {
    "a socket per worker (SO_REUSEPORT), tcp_migrate_req=0 (before)": (
        ["--reuse-port", "--worker-connections", "1000"],
        0,
    ),
    "a socket per worker, its queue drained before it closes": (
        ["--reuse-port", "--worker-connections", "1000", "--worker-class", f"{SHARED}.DrainingWorker"],
        0,
    ),
    "a socket per worker, tcp_migrate_req=1": (["--reuse-port", "--worker-connections", "1000"], 1),
    "one shared socket, worker_connections 1000 (gunicorn's default)": (["--worker-connections", "1000"], 0),
    "shipped: one shared socket, worker_connections 8 (2 x threads)": ([], 0),
}


class _Draining:
    """A worker's listening socket that, when closed, first accepts and serves what waits in its queue."""

    def __init__(self, listener, worker) -> None:
        self._listener = listener
        self._worker = worker

    def __getattr__(self, name):
        return getattr(self._listener, name)

    def close(self) -> None:
        self._listener.setblocking(False)
        while True:
            try:
                client, address = self._listener.accept()
            except BlockingIOError:
                break
            conn = TConn(self._worker.cfg, client, address, self._listener.getsockname())
            try:
                self._worker.handle(conn)  # answered with Connection: close: the worker is stopping
            finally:
                conn.close()
        self._listener.close()


class DrainingWorker(ThreadWorker):
    """Option 2 (bench only): gthread, draining its own SO_REUSEPORT queue before it closes the socket."""

    def init_process(self):
        self.sockets = [_Draining(listener, self) for listener in self.sockets]
        super().init_process()


class _Server(Gunicorn):
    """With --reuse-port gunicorn logs no address: the port is the one given."""

    def _listening_port(self, offset: int) -> str | None:
        return super()._listening_port(offset) or self.env["COLLECTOR_BIND"].rsplit(":", 1)[1]


def start(workdir: Path, name: str, args: list[str]) -> Gunicorn:
    env = {key: value for key, value in os.environ.items() if not key.startswith("COLLECTOR_")}
    env.update(
        COLLECTOR_DATA_DIR=str(workdir / name / "data"), COLLECTOR_BIND=f"127.0.0.1:{free_port()}",
        COLLECTOR_WORKERS="2", COLLECTOR_THREADS="4", COLLECTOR_RATE_LIMIT="1000000 per minute",
        COLLECTOR_LOG_FORMAT="json", GUNICORN_CMD_ARGS=" ".join(args),
    )
    (workdir / name).mkdir(parents=True)
    server = _Server("app:app", env, workdir / name / "gunicorn.log")
    try:
        server.start()
        wait_until(lambda: len(server.worker_pids()) == 2, 30, "2 workers")
    except BaseException:
        server.stop()  # a start that timed out leaves its process running
        raise
    return server


def errors(outcomes) -> str:
    """'N of M', with the kinds of failure: refused, reset, or another status."""
    kinds = collections.Counter(
        "refused" if "Refused" in str(outcome) else "reset" if "Reset" in str(outcome) else str(outcome)
        for _, outcome in outcomes
        if outcome != 201
    )
    shown = f" ({', '.join(f'{count} {kind}' for kind, count in kinds.most_common())})" if kinds else ""
    return f"{sum(kinds.values())} of {len(outcomes)}{shown}"


def recycling(workdir: Path, args: list[str]) -> str:
    server = start(workdir, "recycling", [*args, "--max-requests", "40"])
    try:
        return errors(post_on_new_connections(server.port, 400, clients=8))
    finally:
        server.stop()


def reloads(workdir: Path, args: list[str]) -> str:
    server = start(workdir, "reloads", args)
    outcomes, stop = [], threading.Event()
    load = threading.Thread(target=post_on_new_connections, args=(server.port, 5000, 8, stop, 240, outcomes))
    load.start()
    try:
        for _ in range(3):
            target = len(outcomes) + 40
            wait_until(lambda target=target: len(outcomes) >= target, 60, "load")
            before = set(server.worker_pids())
            os.kill(server.process.pid, signal.SIGHUP)
            wait_until(
                lambda before=before: len(server.worker_pids()) == 2 and not before & set(server.worker_pids()),
                60,
                "reload",
            )
        target = len(outcomes) + 40
        wait_until(lambda: len(outcomes) >= target, 60, "load")
    finally:
        stop.set()
        load.join(300)
        server.stop()
    return errors(outcomes)


def served_by(server: Gunicorn, offset: int) -> collections.Counter:
    lines = server.log()[offset:].splitlines()
    return collections.Counter(json.loads(line)["pid"] for line in lines if '"path":"/collect/event"' in line)


def spread(workdir: Path, args: list[str]) -> str:
    server = start(workdir, "spread", args)
    body = json.dumps({"messageBody": [{"eventType": "spread"}]})
    idle, shares = 0, []
    try:
        for _ in range(20):
            offset = len(server.log())
            connections = [http.client.HTTPConnection("127.0.0.1", server.port, timeout=30) for _ in range(16)]
            for connection in connections:
                connection.connect()
            for _ in range(3):
                for connection in connections:
                    connection.request("POST", "/collect/event", body, {"Content-Type": "application/json"})
                    connection.getresponse().read()
            for connection in connections:
                connection.close()
            counts = wait_until(
                lambda offset=offset: sum(served_by(server, offset).values()) == 48 and served_by(server, offset),
                30,
                "48 lines",
            )
            idle += len(counts) < 2
            shares.append(max(counts.values()) / 48)
    finally:
        server.stop()
    return f"{idle} of 20 | {statistics.median(shares):.0%}"


def stall(workdir: Path, args: list[str]) -> str:
    server = start(workdir, "stall", args)
    body = json.dumps({"messageBody": [{"eventType": "stall"}]})
    held = [http.client.HTTPConnection("127.0.0.1", server.port, timeout=30) for _ in range(64)]
    try:
        threads = [threading.Thread(target=_one_request, args=(connection, body)) for connection in held]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        slowest = 0.0
        for _ in range(20):
            started = time.monotonic()
            fresh = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            _one_request(fresh, body)
            fresh.close()
            slowest = max(slowest, time.monotonic() - started)
        return f"{slowest * 1000:.0f} ms"
    finally:
        for connection in held:
            connection.close()
        server.stop()


def _one_request(connection: http.client.HTTPConnection, body: str) -> None:
    connection.request("POST", "/collect/event", body, {"Content-Type": "application/json"})
    connection.getresponse().read()


def main() -> None:
    if os.environ.get("RELOAD_OPTIONS_NETNS") != "1":
        env = {**os.environ, "RELOAD_OPTIONS_NETNS": "1"}
        command = f"ip link set lo up && exec {sys.executable} {Path(__file__).resolve()}"
        sys.exit(subprocess.run(["unshare", "-n", "sh", "-c", command], env=env, cwd=ROOT).returncode)
    started = time.monotonic()
    rows = []
    for label, (args, migrate) in OPTIONS.items():
        MIGRATE.write_text(f"{migrate}\n")  # this namespace's only
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            figures = [recycling(workdir, args), reloads(workdir, args), spread(workdir, args), stall(workdir, args)]
        rows.append(f"| {label} | {' | '.join(figures)} |")
        print(rows[-1], flush=True)
    text = "\n".join([
        "# Restarting workers without resetting connections", "",
        f"`python bench/reload_options.py` on {os.cpu_count()} cores, Linux {os.uname().release}; "
        f"took {(time.monotonic() - started) / 60:.1f} min. 2 workers x 4 threads on a fixed port.", "",
        "| option | errors, max_requests 40 (400 requests) | errors, 3 SIGHUPs | bursts of 16 keep-alive "
        "connections leaving a worker idle | busiest worker's share | slowest new connection beside 64 idle ones |",
        "|---|---|---|---|---|---|", *rows, "",
    ])
    (ROOT / "bench" / "RESULTS-reloads.md").write_text(text)


if __name__ == "__main__":
    main()
