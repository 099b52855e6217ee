"""prometheus_client's multiprocess directory: one per running master, none left behind."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys

import pytest

from tests.processes import ROOT, wait_until
from tests.servers import service_env

pytestmark = pytest.mark.system


def metrics_dirs(tmp):
    return sorted(path.name for path in tmp.glob("collector-metrics-*"))


def test_a_reload_keeps_the_directory_and_a_stop_removes_it(start_service, tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    service = start_service(workers="1", extra_env={"TMPDIR": str(tmp)})
    [made] = metrics_dirs(tmp)
    assert made.startswith(f"collector-metrics-{service.process.pid}-")
    first = service.wait_for_workers(1)
    service.process.send_signal(signal.SIGHUP)
    wait_until(lambda: service.worker_pids() and service.worker_pids() != first, 30, "reloaded workers")
    wait_until(service.answers, 30, "the reloaded service to answer")
    assert metrics_dirs(tmp) == [made]
    service.stop()
    assert metrics_dirs(tmp) == []


def test_a_failed_start_leaves_nothing_the_next_start_keeps(start_service, tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**service_env(tmp_path / "data"), "TMPDIR": str(tmp), "COLLECTOR_BIND": f"127.0.0.1:{port}"}
        failed = subprocess.run(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "app:app"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
        )
    assert failed.returncode != 0
    service = start_service(extra_env={"TMPDIR": str(tmp)})
    [kept] = metrics_dirs(tmp)
    assert kept.startswith(f"collector-metrics-{service.process.pid}-")
