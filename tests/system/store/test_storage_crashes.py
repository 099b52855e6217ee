"""Crashes and stops of the real service: kill -9, signals, max_requests, a failing disk."""

from __future__ import annotations

import os
import signal

import pytest

from collector.store import datafiles
from tests.servers import read_events, wait_until
from tests.system.store.faults import (
    Load,
    assert_acknowledged_stored_once,
    collector_command,
    disk_that_fails_writeback,
)

pytestmark = pytest.mark.system


def open_files(data_dir):
    return sorted(data_dir.glob("events-*" + datafiles.OPEN_SUFFIX))


def restart_and_verify(service, acknowledged):
    """Start again on the same data: recovery repairs everything before the first request."""
    service.start()
    wait_until(lambda: not open_files(service.data_dir), 20, "recovery to finish the dead workers' files")
    verify = collector_command("events", "verify", "--data-dir", str(service.data_dir))
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert_acknowledged_stored_once(acknowledged, service.data_dir)


def test_worker_killed_with_kill_9_under_load_loses_no_acknowledged_event(start_service, memcached):
    service = start_service(
        rate_limit_storage=memcached.uri, rate_limit="1000000/hour", workers="2", rotate_bytes="50000"
    )
    with Load(service.url, clients=6, pad=300) as load:
        load.wait_for(100)
        victim = service.worker_pids()[0]
        os.kill(victim, signal.SIGKILL)
        wait_until(lambda: victim not in service.worker_pids() and len(service.worker_pids()) == 2, 20, "a new worker")
        # The replacement worker repairs the dead one's file when it has booted (its app built: the bot
        # list's patterns take a moment to compile), while the service runs; its pid shows before that.
        wait_until(
            lambda: not [path for path in open_files(service.data_dir) if f"-{victim}-" in path.name],
            30,
            "the replacement worker repairs the dead one's file",
        )
        served = load.statuses[201]
        load.wait_for(served + 100)  # the service goes on taking events meanwhile
    service.kill_all()
    restart_and_verify(service, load.acknowledged)


@pytest.mark.parametrize("victim", ["master", "everything"])
def test_service_killed_with_kill_9_under_load_keeps_every_acknowledged_event_once(start_service, victim):
    service = start_service(rate_limit="1000000/hour", rotate_bytes="50000")
    workers = service.worker_pids()
    with Load(service.url, clients=6, pad=300) as load:
        load.wait_for(200)
        if victim == "master":
            os.kill(service.process.pid, signal.SIGKILL)
            service.process.wait(10)
        else:
            service.kill_all()
    # Orphaned workers notice the master is gone and stop once their clients
    # have gone; only then is the store at rest.
    wait_until(lambda: not any(os.path.exists(f"/proc/{pid}") for pid in workers), 30, "orphaned workers to exit")
    restart_and_verify(service, load.acknowledged)


def test_torn_last_line_is_cut_and_quarantined_at_start_up(start_service, tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    whole = b'{"eventType":"kept","receivedAt":"2026-11-26T05:00:00.000Z"}\n'
    torn = b'{"eventType":"torn","receivedAt":"2026-11-26T05:00:0'
    name = "events-20261126T050000.000000Z-oldhost-999999-000001.jsonl.open"
    (data_dir / name).write_bytes(whole + torn)

    service = start_service(data_dir=data_dir)

    # Before any request: the worker repairs the store as it boots.
    wait_until(lambda: not open_files(data_dir), 20, "the abandoned file to be finished")
    finished = data_dir / name.replace(".open", "")
    assert finished.read_bytes() == whole
    assert (data_dir / "quarantine" / (name + ".torn")).read_bytes() == torn
    assert "cut a torn last line" in service.log()
    assert collector_command("events", "verify", "--data-dir", str(data_dir)).returncode == 0


@pytest.mark.parametrize("how", ["SIGTERM", "SIGINT", "max_requests"])
def test_clean_stop_or_restart_finishes_the_open_file(start_service, how):
    extra_env = {"GUNICORN_CMD_ARGS": "--max-requests 5"} if how == "max_requests" else {}
    service = start_service(workers="1", extra_env=extra_env)  # the one worker whose file is watched
    worker = service.worker_pids()[0]
    posted = []
    for n in range(10):  # /healthz polls count towards max_requests too: post until the restart
        assert service.post({"messageBody": [{"eventType": "stop", "eventId": f"e{n}"}]}).status_code == 201
        posted.append(f"e{n}")
        if (how != "max_requests" and n == 2) or (how == "max_requests" and worker not in service.worker_pids()):
            break
    if how != "max_requests":
        assert service.stop(getattr(signal, how)) == 0
    # Finished by the worker itself as it stopped, not left for the next one's recovery.
    assert not list(service.data_dir.glob(f"events-*-{worker}-*.open"))
    [finished] = service.data_dir.glob(f"events-*-{worker}-*.jsonl")
    assert "finished abandoned file" not in service.log()
    assert finished.read_bytes().endswith(b"\n")
    assert sorted(event["eventId"] for event in read_events(service.data_dir)) == posted


def test_failed_fsync_answers_503_and_restarts_the_worker(start_service, tmp_path):
    data_dir = tmp_path / "failing"
    with disk_that_fails_writeback(data_dir, tmp_path) as data_dir:
        # One worker: the one that fails is the one watched (the other's stop is tested in test_writer.py).
        service = start_service(
            data_dir=data_dir, fsync="always", max_event_bytes="40000", rate_limit="100000/hour", workers="1"
        )
        try:
            worker = service.worker_pids()[0]
            body = {"messageBody": [{"eventType": "big", "properties": {"pad": "x" * 30000}}] * 30}
            statuses = []
            for _ in range(40):  # ~1 MB each: the 3 MB behind the disk runs out after a few
                response = service.post(body)
                statuses.append(response.status_code)
                if response.status_code == 503:
                    break
            assert statuses[-1] == 503, statuses
            assert response.headers["Retry-After"] == "5"
            wait_until(lambda: worker not in service.worker_pids() and service.worker_pids(), 30, "a new worker")
            log = service.log()
            assert "fsync of" in log and "failed" in log
            assert f"restarting worker {worker}" in log
        finally:
            service.stop()
