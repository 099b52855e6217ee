"""Asking the real service's workers to finish their open files, as `collector events forget` does."""

from __future__ import annotations

import pytest

from collector.store import datafiles, finishing
from tests.servers import wait_until
from tests.system.store.faults import Load, assert_acknowledged_stored_once

pytestmark = pytest.mark.system


def assert_finished(files):
    for path in files:
        assert not path.exists(), f"{path.name} is still open"
        done = datafiles.finished_path(path)
        # Compressed meanwhile, maybe: the worker's maintenance is woken by the finish.
        assert done.exists() or done.with_name(done.name + ".gz").exists(), f"{path.name} was not finished"


def test_workers_finish_the_files_open_at_the_ask_while_clients_post_and_when_idle(start_service):
    service = start_service(rate_limit="1000000/hour", workers="2", compress="gzip")
    data = service.data_dir
    with Load(service.url, clients=6, pad=100, seconds=90) as load:
        load.wait_for(100)
        wait_until(lambda: len(finishing.open_files(data)) == 2, 30, "both workers to have a file open")
        busy = finishing.open_files(data)
        assert finishing.ask_workers_to_finish(data) == 1
        assert finishing.wait_for_finished(data, busy, timeout=60)
        assert_finished(busy)

        served = load.statuses[201]
        load.wait_for(served + 100)  # appends go on, into new files
        assert not set(finishing.open_files(data)) & set(busy)

    # Idle workers, no request to wake them: their background threads answer.
    idle = finishing.open_files(data)
    assert idle
    assert finishing.ask_workers_to_finish(data) == 2
    assert finishing.wait_for_finished(data, idle, timeout=60)
    assert_finished(idle)
    assert finishing.open_files(data) == []

    assert set(load.statuses) == {201}, f"answers other than 201: {load.statuses}"
    service.stop()
    assert_acknowledged_stored_once(load.acknowledged, data)
    assert service.events() and len(service.events()) == len(load.acknowledged)


def test_with_the_service_stopped_nothing_is_open_and_asking_is_harmless(start_service):
    service = start_service(rate_limit="1000000/hour", workers="2")
    assert service.post({"messageBody": [{"eventType": "t", "eventId": "one"}]}).status_code == 201
    service.stop()
    assert finishing.open_files(service.data_dir) == []
    finishing.ask_workers_to_finish(service.data_dir)
    assert finishing.wait_for_finished(service.data_dir, [], timeout=0)
    assert_acknowledged_stored_once(["one"], service.data_dir)


def test_files_of_a_service_killed_after_the_ask_are_finished_by_the_wait(start_service):
    service = start_service(rate_limit="1000000/hour", workers="2")
    data = service.data_dir
    with Load(service.url, clients=6, pad=100) as load:
        load.wait_for(100)
        files = finishing.open_files(data)
        assert files
        finishing.ask_workers_to_finish(data)
        service.kill_all()  # SIGKILL, master and workers: nobody is left to answer
    # Whatever the workers did before they died, the wait finishes the rest, as start-up recovery would.
    assert finishing.wait_for_finished(data, files, timeout=60)
    assert_finished(files)
    assert finishing.open_files(data) == []
    assert set(load.statuses) <= {201, "error"}  # requests in flight at the kill got no answer
    assert_acknowledged_stored_once(load.acknowledged, data)
