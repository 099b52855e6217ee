"""collector/server/hooks.py: gunicorn's server hooks, called as gunicorn calls them, without gunicorn."""

from __future__ import annotations

import signal
from types import SimpleNamespace

import pytest

from collector import create_app, service
from collector.server.hooks import Hooks


class Log:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def error(self, message: str, *args) -> None:
        self.errors.append(message % args)


@pytest.fixture
def worker(tmp_path):
    app = create_app({"data_dir": tmp_path / "data"})
    worker = SimpleNamespace(wsgi=app, alive=True, pid=4321, log=Log(), handle_exit=lambda sig, frame: None)
    yield worker
    service.of(app).writer.close()


@pytest.fixture
def restore_signals():
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGQUIT, signal.SIGINT)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def test_a_worker_exits_gracefully_on_sigquit_and_sigint(worker, restore_signals):
    Hooks(None).post_worker_init(worker)
    assert signal.getsignal(signal.SIGQUIT) is worker.handle_exit
    assert signal.getsignal(signal.SIGINT) is worker.handle_exit


def test_a_worker_whose_store_failed_an_fsync_is_restarted(worker):
    Hooks(None).post_request(worker, None, {}, None)
    assert worker.alive
    service.of(worker.wsgi).writer.broken = True
    Hooks(None).post_request(worker, None, {}, None)
    assert not worker.alive and worker.log.errors == ["storage failed an fsync: restarting worker 4321"]


def test_a_worker_that_is_not_the_collector_is_left_alone(restore_signals):
    other = SimpleNamespace(wsgi=object(), alive=True, handle_exit=lambda sig, frame: None)
    Hooks(None).post_worker_init(other)
    Hooks(None).post_request(other, None, {}, None)
    Hooks(None).worker_exit(None, other)
    assert other.alive


def test_a_worker_that_exits_finishes_its_file(worker, tmp_path):
    answer = worker.wsgi.test_client().post("/collect/event", json={"messageBody": [{"eventType": "a"}]})
    assert answer.status_code == 201
    assert any(path.name.endswith(".open") for path in (tmp_path / "data").iterdir())
    Hooks(None).worker_exit(None, worker)
    assert not any(path.name.endswith(".open") for path in (tmp_path / "data").iterdir())


def test_the_operators_metrics_directory_is_emptied_when_the_master_starts(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    (tmp_path / "counter_1.db").write_bytes(b"x")
    Hooks(None).on_starting(SimpleNamespace(master_pid=0))
    assert list(tmp_path.iterdir()) == []


def test_not_on_a_usr2_reexec_whose_old_workers_still_count_there(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    (tmp_path / "counter_1.db").write_bytes(b"x")
    Hooks(None).on_starting(SimpleNamespace(master_pid=1234))
    assert [path.name for path in tmp_path.iterdir()] == ["counter_1.db"]


def test_a_gone_workers_live_gauges_are_dropped(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    (tmp_path / "gauge_liveall_4321.db").write_bytes(b"x")
    (tmp_path / "counter_4321.db").write_bytes(b"x")
    Hooks(None).child_exit(None, SimpleNamespace(pid=4321))
    assert [path.name for path in tmp_path.iterdir()] == ["counter_4321.db"]


def test_our_metrics_directory_is_removed_when_gunicorn_exits_and_the_operators_kept(tmp_path):
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    ours.mkdir(), theirs.mkdir()
    Hooks(str(ours)).on_exit(None)
    Hooks(None).on_exit(None)
    assert not ours.exists() and theirs.exists()
