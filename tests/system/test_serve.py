"""`collector serve`: the service from the installed package, run from any directory, reloaded and restarted.

README.md's "Quick start" and docs/deploying.md's "Upgrading"; deploy/collector.service runs it.
"""

from __future__ import annotations

import glob
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import requests

from tests.processes import ROOT, wait_until
from tests.servers import service_env
from tests.system.reloading import Load, assert_each_acknowledged_and_stored_once, hup_and_wait

pytestmark = pytest.mark.system

# The console script pip installed beside this Python (`pip install -e .`).
COLLECTOR = str(Path(sys.executable).with_name("collector"))
SETTINGS = dict(workers="2", rate_limit="1000000 per minute", access_log="off")


@pytest.fixture
def elsewhere(tmp_path):
    """A working directory outside the checkout, with no app.py nor gunicorn.conf.py in it."""
    path = tmp_path / "elsewhere"
    path.mkdir()
    return path


def test_collector_serve_runs_the_service_from_any_directory(start_service, elsewhere):
    service = start_service(command=[COLLECTOR, "serve"], cwd=elsewhere, **SETTINGS)
    assert service.post({"messageBody": [{"eventType": "hello"}]}).status_code == 201
    assert [event["eventType"] for event in service.events()] == ["hello"]
    # The workers count in one multiprocess directory: the master's metrics are whole.
    assert "collector_requests" in requests.get(service.url + "/metrics", timeout=30).text
    # Named after the master's pid, the one `collector serve` started as: the exec kept it.
    [metrics_dir] = glob.glob(os.path.join(tempfile.gettempdir(), f"collector-metrics-{service.process.pid}-*"))
    assert service.stop() == 0
    assert not os.path.exists(metrics_dir), "its metrics directory is removed at exit"
    assert list(elsewhere.iterdir()) == []


def test_collector_serve_reloads_on_sighup_and_stops_cleanly(start_service, elsewhere):
    service = start_service(command=[COLLECTOR, "serve"], cwd=elsewhere, **SETTINGS)
    hup_and_wait(service)
    assert service.post({"messageBody": [{"eventType": "after-reload"}]}).status_code == 201
    assert service.stop(signal.SIGTERM) == 0
    assert [event["eventType"] for event in service.events()] == ["after-reload"]


def test_collector_serve_on_systemds_socket_restarts_and_reloads_dropping_nothing(start_service, elsewhere):
    # deploy/collector.service runs `collector serve` on collector.socket's socket.
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(4096)
        port = listener.getsockname()[1]
        service = start_service(
            command=[COLLECTOR, "serve"], cwd=elsewhere, bind=f"127.0.0.1:{port}", listen_socket=listener, **SETTINGS
        )
        load = Load(port)
        try:
            load.wait_for_more()
            assert service.stop() == 0
            service.start()
            load.wait_for_more()
            hup_and_wait(service)
            load.wait_for_more()
        finally:
            outcomes = load.stop()
        assert_each_acknowledged_and_stored_once(service, outcomes, 120)


def test_collector_serve_stops_at_a_bad_setting_in_one_line(elsewhere, tmp_path):
    env = service_env(tmp_path / "data", threads="lots")
    result = subprocess.run([COLLECTOR, "serve"], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1].startswith("collector: COLLECTOR_THREADS")


def readme_blocks(section: str, page: str = "README.md") -> list[str]:
    text = (ROOT / page).read_text()
    body = text[text.index(section) :]
    body = body[:3] + body[3:].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)\n```", body, re.S)


def test_the_quick_start_starts_the_service_with_collector_serve():
    assert readme_blocks("## Quick start")[0].endswith("pip install -r requirements.txt -e . && collector serve")


def test_the_readme_upgrade_checks_the_units_settings_file_then_restarts():
    unit = (ROOT / "deploy" / "collector.service").read_text()
    env_file = re.search(r"^EnvironmentFile=(.*)$", unit, re.M).group(1)
    [steps] = [block for block in readme_blocks("### Upgrading", "docs/deploying.md")]
    lines = [line for line in steps.splitlines() if not line.startswith("#")]
    assert lines[1] == f"/opt/collector/.venv/bin/collector settings --env-file {env_file}"
    assert lines[2] == "systemctl restart collector"


def children(pid: int) -> set[int]:
    try:
        return {int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}
    except FileNotFoundError:
        return set()


def gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] in "ZX"
    except (FileNotFoundError, IndexError):
        return True


def test_collector_serve_upgrades_in_place_on_usr2(start_service, elsewhere):
    # gunicorn's USR2: a new master is executed beside the old one, on the same socket; the old one is then stopped.
    service = start_service(command=[COLLECTOR, "serve"], cwd=elsewhere, **SETTINGS)
    old_workers = set(service.worker_pids())
    os.kill(service.process.pid, signal.SIGUSR2)
    new_master = wait_until(lambda: next(iter(set(service.worker_pids()) - old_workers), None), 60, "the new master")
    try:
        wait_until(lambda: len(children(new_master)) == 2, 60, "the new master's two workers")
        assert service.stop() == 0  # the old master and its workers
        assert service.post({"messageBody": [{"eventType": "after-upgrade"}]}).status_code == 201
        assert [event["eventType"] for event in service.events()] == ["after-upgrade"]
    finally:
        if not gone(new_master):
            os.kill(new_master, signal.SIGTERM)
        wait_until(lambda: gone(new_master), 60, "the new master to stop")
