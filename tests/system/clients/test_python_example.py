"""clients/python_example.py, run as a user would run it, against the real service."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from collector.ingest.keys import key_id
from tests.processes import ROOT, free_port

pytestmark = pytest.mark.system

EXAMPLE = ROOT / "clients" / "python_example.py"
KEY = "example-key-0123456789abcdef"


def run_example(*args: str, key: str | None = None, **popen) -> subprocess.Popen:
    env = {"PATH": "/usr/bin:/bin"}
    if key:
        env["COLLECTOR_WRITE_KEY"] = key
    command = [sys.executable, str(EXAMPLE), *args]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


def finished(process: subprocess.Popen, timeout: float = 60) -> tuple[int, dict | None, str]:
    out, err = process.communicate(timeout=timeout)
    return process.returncode, (json.loads(out) if out.strip() else None), err


def access_statuses(service) -> list[str]:
    lines = [line for line in service.log().splitlines() if '"path":"/collect/event"' in line]
    return [line.split('"status":')[1].split(",")[0] for line in lines]


@pytest.mark.parametrize("gzipped", [False, True], ids=["plain", "gzip"])
def test_the_example_stores_its_batch_with_its_own_event_ids(start_service, gzipped):
    service = start_service(api_keys=KEY)
    args = ["--url", service.url, "--events", "5", *(["--gzip"] if gzipped else [])]
    code, printed, err = finished(run_example(*args, key=KEY))
    assert code == 0, err
    stored = service.events()
    assert [event["eventId"] for event in stored] == printed["eventIds"]
    assert {event["pingId"] for event in stored} == {printed["pingId"]}
    assert {event["client"]["keyId"] for event in stored} == {key_id(KEY)}
    assert [event["properties"]["n"] for event in stored] == list(range(5))
    assert {json.dumps(event["messageheader"]) for event in stored} == {'{"client": "python_example"}'}


def test_a_429_is_retried_after_its_retry_after(start_service):
    # A window long enough that the example's first attempt falls in it even
    # when a busy machine takes seconds to start a Python process.
    service = start_service(rate_limit="1 per 10 seconds")
    assert service.post({"messageBody": [{"eventType": "first"}]}).status_code == 201
    code, printed, err = finished(run_example("--url", service.url))
    assert code == 0, err
    assert "attempt 1: 429 rate_limited; retrying in" in err
    # The first event may be in the other worker's file, before or after the batch's.
    assert [event["eventId"] for event in service.events() if event["eventType"] != "first"] == printed["eventIds"]


def test_a_collector_that_is_not_up_yet_is_retried_until_it_is(start_service):
    port = free_port()
    example = run_example("--url", f"http://127.0.0.1:{port}", "--max-attempts", "40", "--max-backoff", "0.5")
    try:
        # The job starts first, finds nothing listening, and backs off; the collector comes up meanwhile.
        first_failure = example.stderr.readline()
        assert first_failure.startswith("attempt 1: ConnectionError; retrying in"), first_failure
        service = start_service(bind=f"127.0.0.1:{port}")
        code, printed, err = finished(example)
    finally:
        if example.poll() is None:
            example.kill()
            example.wait()
    assert code == 0, err
    assert [event["eventId"] for event in service.events()] == printed["eventIds"]


def test_another_4xx_is_not_retried(start_service):
    service = start_service(api_keys=KEY)
    code, printed, err = finished(run_example("--url", service.url, key="not-the-key-0123456789"))
    assert (code, printed) == (1, None)
    assert "refused: 401 invalid_write_key" in err
    assert "retrying" not in err
    service.stop()
    assert access_statuses(service) == ["401"]
    assert service.events() == []
