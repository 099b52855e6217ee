"""The data directory taken away while the service runs: never re-created, 503 until it is back."""

from __future__ import annotations

import subprocess
from contextlib import contextmanager

import pytest
import requests

from collector.errors import CODES
from tests.servers import wait_until
from tests.system.store.faults import assert_acknowledged_stored_once, tmpfs

pytestmark = pytest.mark.system


def post_one(service, event_id):
    return service.post({"messageBody": [{"eventType": "dir", "eventId": event_id}]})


def assert_refused_while_gone(service, path):
    """Every worker refuses with the contract's 503, /readyz is unready, and nothing appears at `path`."""
    for n in range(8):  # more requests than workers: each worker meets the missing directory
        response = post_one(service, f"refused-{n}")
        assert response.status_code == 503, response.text
        body = response.json()
        assert body["code"] in CODES and body["statusCode"] == 503
    assert requests.get(service.url + "/readyz", timeout=30).status_code == 503
    assert not path.exists() or not any(path.iterdir()), "the service wrote where its data directory was"


def post_until_stored(service, acknowledged, event_id):
    """The service recovers by itself: poll (no restart) until a POST is acknowledged again."""
    wait_until(lambda: post_one(service, event_id).status_code == 201, 30, "the service to store again")
    acknowledged.append(event_id)
    assert requests.get(service.url + "/readyz", timeout=30).status_code == 200


def test_a_renamed_data_directory_is_not_recreated_and_is_used_again_once_renamed_back(start_service, tmp_path):
    data_dir, moved = tmp_path / "data", tmp_path / "moved"
    service = start_service(data_dir=data_dir, workers="2", rate_limit="1000000/hour")
    acknowledged = []
    for n in range(10):
        assert post_one(service, f"before-{n}").status_code == 201
        acknowledged.append(f"before-{n}")

    data_dir.rename(moved)
    assert_refused_while_gone(service, data_dir)
    assert not data_dir.exists(), "the data directory was re-created"

    moved.rename(data_dir)
    post_until_stored(service, acknowledged, "after")
    for n in range(10):
        assert post_one(service, f"after-{n}").status_code == 201
        acknowledged.append(f"after-{n}")
    service.stop()
    assert_acknowledged_stored_once(acknowledged, data_dir)
    assert not (tmp_path / "moved").exists()


@contextmanager
def bind_mounted(source, target):
    subprocess.run(["mount", "--bind", str(source), str(target)], check=True, capture_output=True, timeout=30)
    try:
        yield target
    finally:
        subprocess.run(["umount", "--lazy", str(target)], capture_output=True, timeout=30)


def test_a_lost_mount_does_not_fill_the_disk_below_it_and_is_used_again_once_remounted(start_service, tmp_path):
    # The data directory is a mount (here a bind of a tmpfs); lost, its path is an empty
    # directory of the disk below, which must stay empty.
    with tmpfs(tmp_path / "volume", "4m") as volume:
        data_dir = tmp_path / "data"
        data_dir.mkdir()
        acknowledged = []
        with bind_mounted(volume, data_dir):
            service = start_service(data_dir=data_dir, workers="2", rate_limit="1000000/hour")
            for n in range(10):
                assert post_one(service, f"before-{n}").status_code == 201
                acknowledged.append(f"before-{n}")
            subprocess.run(["umount", "--lazy", str(data_dir)], check=True, capture_output=True, timeout=30)
            assert_refused_while_gone(service, data_dir)
            with bind_mounted(volume, data_dir):
                post_until_stored(service, acknowledged, "after")
                service.stop()
                assert_acknowledged_stored_once(acknowledged, data_dir)
        assert not any(data_dir.iterdir())


def test_a_worker_started_while_the_data_directory_is_away_does_not_recreate_it(start_service, tmp_path):
    # The master pins the directory before it forks: a worker recycled by max_requests
    # during the outage knows which directory it was, and makes none.
    data_dir, moved = tmp_path / "data", tmp_path / "moved"
    service = start_service(
        data_dir=data_dir, workers="1", rate_limit="1000000/hour",
        extra_env={"GUNICORN_CMD_ARGS": "--max-requests 3"},
    )
    [first] = service.wait_for_workers(1)
    data_dir.rename(moved)
    # Requests until the worker is recycled (each counts towards max_requests), then one to its successor.

    def recycled():
        return post_one(service, "away") is not None and first not in service.worker_pids()

    wait_until(recycled, 60, "a recycled worker")
    service.wait_for_workers(1)
    assert post_one(service, "away").status_code == 503
    assert not data_dir.exists(), "a new worker re-created the data directory"
    moved.rename(data_dir)
    acknowledged = []
    post_until_stored(service, acknowledged, "back")
    service.stop()
    assert_acknowledged_stored_once(acknowledged, data_dir)
