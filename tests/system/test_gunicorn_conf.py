"""gunicorn.conf.py's worker model: every worker gets connections; a port in use is refused in one line.

Reloads and restarts under load: tests/system/test_reloads.py.
"""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys

import pytest

from tests.processes import ROOT, socket_activated
from tests.servers import free_port, service_env, wait_until

pytestmark = pytest.mark.system

EVENT = json.dumps({"messageBody": [{"eventType": "spread"}]})


def test_keep_alive_connections_opened_at_once_reach_every_worker(start_service, memcached):
    # wrk or nginx's upstream pool open their keep-alive connections in one
    # burst; the workers share one socket, and without worker_connections
    # bounded the first worker to wake could accept them all and leave the
    # other core idle for their lifetime.
    service = start_service(
        workers="2", rate_limit_storage=memcached.uri, bind=f"127.0.0.1:{free_port()}", log_format="json"
    )
    workers = set(service.wait_for_workers(2))
    connections = [http.client.HTTPConnection("127.0.0.1", service.port, timeout=10) for _ in range(16)]
    for connection in connections:
        connection.connect()
    for _ in range(3):
        for connection in connections:
            connection.request("POST", "/collect/event", EVENT, {"Content-Type": "application/json"})
            answer = connection.getresponse()
            answer.read()
            assert answer.status == 201
    for connection in connections:
        connection.close()
    def served() -> list[int]:
        return [json.loads(line)["pid"] for line in service.log().splitlines() if '"path":"/collect/event"' in line]

    # gunicorn writes an access line after the answer is sent: wait for the last ones.
    wait_until(lambda: len(served()) == 48, 30, "48 access log lines")
    assert set(served()) == workers, "every worker accepts some of the connections"


def test_a_second_service_on_the_same_port_is_refused(start_service, memcached, tmp_path):
    # One line naming the setting, rather than gunicorn's five retries.
    port = free_port()
    first = start_service(workers="2", rate_limit_storage=memcached.uri, bind=f"127.0.0.1:{port}")
    env = service_env(tmp_path / "other", workers="2", rate_limit_storage=memcached.uri, bind=f"127.0.0.1:{port}")
    second = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "app:app"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    assert second.returncode != 0
    assert second.stderr.strip().splitlines()[-1] == (
        f"collector: COLLECTOR_BIND: 127.0.0.1:{port} is in use by another process (Address already in use)"
    )
    assert "Traceback" not in second.stderr
    assert first.post({"messageBody": [{"eventType": "still-here"}]}).status_code == 201


def test_a_socket_from_systemd_elsewhere_than_collector_bind_is_refused(tmp_path):
    # gunicorn would listen on systemd's socket whatever COLLECTOR_BIND says,
    # while the console and the operator go by COLLECTOR_BIND.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        other = free_port()
        env = service_env(tmp_path / "data", workers="2", bind=f"127.0.0.1:{other}")
        argv, fds = socket_activated(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "app:app"], listener.fileno()
        )
        started = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, pass_fds=fds)
    assert started.returncode != 0
    assert started.stderr.strip().splitlines()[-1] == (
        f"collector: COLLECTOR_BIND: 127.0.0.1:{other} is not where systemd's socket listens (127.0.0.1:{port}): "
        "make ListenStream= in collector.socket the same"
    )
