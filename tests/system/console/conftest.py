"""The console's system tests: `collector console` in its own process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
import requests

from tests.processes import ROOT, free_port
from tests.servers import wait_until


@pytest.fixture
def start_console(tmp_path):
    """start_console(data_dir, metrics_url, *args, env=...): `collector console` on a free loopback port."""
    started = []

    def start(data_dir, metrics_url, *args, env=None):
        port = free_port()
        # The console writes to it until the fixture stops the console, then closes it.
        log = open(tmp_path / f"console{len(started)}.log", "wb")  # noqa: SIM115
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "collector",
                "console",
                "--bind",
                f"127.0.0.1:{port}",
                "--metrics-url",
                metrics_url,
                *args,
            ],
            cwd=ROOT,
            env={**os.environ, "COLLECTOR_DATA_DIR": str(data_dir), **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started.append((process, log))
        url = f"http://127.0.0.1:{port}"

        def answers() -> bool:
            if process.poll() is not None:
                raise RuntimeError((tmp_path / f"console{len(started) - 1}.log").read_text())
            try:
                return requests.get(url + "/api/events", timeout=2).status_code < 500
            except requests.ConnectionError:
                return False

        wait_until(answers, 30, "the console to answer")
        return url

    yield start
    for process, log in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.close()
