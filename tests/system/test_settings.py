"""Settings the service cannot honour stop a real start, before it serves anything, with one line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.processes import ROOT
from tests.servers import service_env

pytestmark = pytest.mark.system

# Each of these was once accepted, and then failed every request (or every dead letter) with a 500 or a 503.
REFUSED_AT_START = [
    ("COLLECTOR_MAX_EVENT_AGE_DAYS", "1000000", "a number of days from 0.001 to 36500"),
    ("COLLECTOR_RATE_LIMIT_TIMEOUT", "10000000000", "a number of seconds from 0.001 to 2"),
    ("COLLECTOR_FSYNC_SECONDS", "0.000001", "a number of seconds from 0.01 to 60"),
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


@pytest.mark.parametrize("variable, value, expected", REFUSED_AT_START)
def test_the_service_refuses_to_start_with_a_value_past_its_bounds(tmp_path, memcached, variable, value, expected):
    result = start(tmp_path, rate_limit_storage=memcached.uri, **{variable.removeprefix("COLLECTOR_").lower(): value})
    assert result.returncode != 0
    assert result.stderr.strip() == f"collector: {variable}={value!r} is not valid: expected {expected}"
    assert not (tmp_path / "data").exists(), "nothing was started"
