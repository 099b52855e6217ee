"""Settings the service cannot honour stop a real start, before it serves anything, with one line."""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests

from tests.processes import ROOT
from tests.servers import service_env

pytestmark = pytest.mark.system

HOST_NAME = "1 to 64 ASCII letters, digits, '.', '_' or '-', starting with a letter or digit (it is part of file names)"
# Each of these was once accepted, and then failed every request (or every dead letter) with a 500 or a 503.
NOT_VALID_AT_START = [
    ("COLLECTOR_MAX_EVENT_AGE_DAYS", "1000000", "a number of days from 0.001 to 36500"),
    ("COLLECTOR_RATE_LIMIT_TIMEOUT", "10000000000", "a number of seconds from 0.001 to 2"),
    ("COLLECTOR_FSYNC_SECONDS", "0.000001", "a number of seconds from 0.01 to 60"),
    ("COLLECTOR_HOST_NAME", "../vm-a", HOST_NAME),
    ("COLLECTOR_HOST_NAME", "x" * 300, HOST_NAME),
]


def start(tmp_path, **settings: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "app:app"],
        cwd=ROOT,
        env=service_env(tmp_path / "data", **settings),
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("variable, value, expected", NOT_VALID_AT_START)
def test_the_service_does_not_start_with_a_value_past_its_bounds(tmp_path, memcached, variable, value, expected):
    result = start(tmp_path, rate_limit_storage=memcached.uri, **{variable.removeprefix("COLLECTOR_").lower(): value})
    assert result.returncode != 0
    assert result.stderr.strip() == f"collector: {variable}={value!r} is not valid: expected {expected}"
    assert not (tmp_path / "data").exists(), "nothing was started"


def test_the_longest_host_name_names_every_file_the_service_writes(start_service):
    # At 300 characters every POST got 503 (a file name too long) while /readyz said 200.
    host = "vm-a." + "x" * 59
    service = start_service(host_name=host, dead_letter="on")
    assert service.post({"messageBody": [{"eventType": "kept"}]}).status_code == 201
    assert service.post({"messageBody": [{"eventType": ""}]}).status_code == 400
    assert requests.get(service.url + "/readyz", timeout=10).status_code == 200
    assert [event["eventType"] for event in service.events()] == ["kept"]
    [data_file] = service.data_dir.glob("events-*.jsonl.open")
    [letters] = (service.data_dir / "deadletters").glob("deadletters-*.jsonl")
    assert f"-{host}-" in data_file.name and f"-{host}-" in letters.name
