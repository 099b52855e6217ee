"""collector/server/startup.py: gunicorn's variables and the start-up checks, without starting gunicorn."""

from __future__ import annotations

import datetime
import json
import os
import socket
import sys
from pathlib import Path
from typing import ClassVar

import pytest
from gunicorn.config import Config

from collector.ops.access_log import JSONLogger
from collector.server import startup
from collector.settings import load_settings, pinned


def environ_for(tmp_path, **settings: str) -> dict[str, str]:
    environ = {"COLLECTOR_DATA_DIR": str(tmp_path / "data"), "COLLECTOR_BIND": "127.0.0.1:0"}
    environ.update({f"COLLECTOR_{key.upper()}": value for key, value in settings.items()})
    return environ


def test_gunicorn_accepts_every_variable_and_hook(tmp_path):
    config = startup.configure(None, environ_for(tmp_path))
    cfg = Config()
    for name, value in config.items():
        cfg.set(name, value)  # gunicorn's own validation: types, and each hook's arity
    assert set(config) <= set(cfg.settings)
    assert cfg.worker_class_str == "gthread" and cfg.graceful_timeout == startup.GRACEFUL_TIMEOUT
    assert callable(cfg.on_exit) and callable(cfg.post_request)


def test_the_variables_follow_the_settings(tmp_path):
    variables = startup.variables(
        startup.start(None, environ_for(tmp_path, workers="3", threads="5", access_log="off", log_format="json"))
    )
    assert (variables["workers"], variables["threads"], variables["accesslog"]) == (3, 5, None)
    assert issubclass(variables["logger_class"], JSONLogger) and variables["logger_class"].client_ip == "full"
    assert variables["bind"] == "127.0.0.1:0" and variables["reuse_port"] is False


class Response:
    status = "201 CREATED"
    sent = 79
    headers: ClassVar[list[tuple[str, str]]] = []


def test_gunicorns_logger_takes_the_settings_read_here_not_the_environment(tmp_path, monkeypatch, capsys):
    # The configuration reads the settings once (issue 21): the logger gunicorn
    # makes from `logger_class` gets the address mode from there.
    monkeypatch.setenv("COLLECTOR_CLIENT_IP", "full")
    monkeypatch.setenv("COLLECTOR_THREADS", "lots")  # a second reading would stop here
    cfg = Config()
    for name, value in startup.configure(None, environ_for(tmp_path, client_ip="drop", log_format="json")).items():
        cfg.set(name, value)
    logger = cfg.logger_class(cfg)  # as gunicorn's arbiter makes it
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/collect/event", "REMOTE_ADDR": "198.51.100.77"}
    logger.access(Response(), None, environ, datetime.timedelta(milliseconds=3))
    line = json.loads(capsys.readouterr().out)
    assert line["path"] == "/collect/event" and "client" not in line


def test_a_bad_setting_stops_start_up_in_one_line_and_removes_our_metrics_directory(tmp_path):
    own = tmp_path / "metrics"
    own.mkdir()
    with pytest.raises(SystemExit) as stopped:
        startup.configure(str(own), environ_for(tmp_path, threads="lots"))
    assert str(stopped.value).startswith("collector: COLLECTOR_THREADS") and "\n" not in str(stopped.value)
    assert not own.exists()


def test_the_data_directory_is_made_at_start(tmp_path):
    startup.start(None, environ_for(tmp_path))
    assert (tmp_path / "data").is_dir()


@pytest.fixture
def listener():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield f"127.0.0.1:{sock.getsockname()[1]}"


def test_an_address_in_use_is_refused_at_the_first_start(tmp_path, listener):
    with pytest.raises(SystemExit, match=r"^collector: COLLECTOR_BIND: "):
        startup.configure(None, environ_for(tmp_path, bind=listener))


def test_a_sighup_rereading_in_the_same_master_does_not_check_the_address(tmp_path, listener):
    environ = environ_for(tmp_path, bind=listener)
    environ["_COLLECTOR_GUNICORN_MASTER"] = str(os.getpid())
    assert startup.configure(None, environ)["bind"] == listener


def test_a_usr2_reexec_does_not_check_the_address(tmp_path, listener):
    assert startup.configure(None, {**environ_for(tmp_path, bind=listener), "GUNICORN_PID": "1"})["bind"] == listener


def test_the_first_start_marks_the_master(tmp_path):
    environ = environ_for(tmp_path)
    startup.start(None, environ)
    assert environ["_COLLECTOR_GUNICORN_MASTER"] == str(os.getpid())


def test_serve_runs_gunicorns_script_with_the_packaged_configuration_file(tmp_path):
    (tmp_path / "gunicorn").write_text("#!/bin/sh\n")
    (tmp_path / "gunicorn").chmod(0o755)
    argv = startup.command(str(tmp_path))
    assert argv == [str(tmp_path / "gunicorn"), "-c", str(startup.CONFIG_FILE), "collector.wsgi:app"]
    assert startup.CONFIG_FILE.is_file() and startup.CONFIG_FILE.parent.parent.name == "collector"


def test_without_gunicorns_script_serve_runs_it_as_a_module(tmp_path):
    assert startup.command(str(tmp_path))[:3] == [sys.executable, "-m", "gunicorn"]


def test_the_script_is_the_one_beside_this_python():
    assert startup.command()[0] == str(Path(sys.executable).with_name("gunicorn"))


@pytest.fixture
def master_state():
    """The master's state in this process (the plan pinned, the settings in effect), put back after the test."""
    yield
    pinned.unpin()
    startup._in_effect = None


def write_plan(path: Path, most: object) -> Path:
    properties = {"type": "object", "properties": {"n": {"type": "integer", "maximum": most}}}
    path.write_text(json.dumps({"eventTypes": {"a": {"properties": properties}}, "otherEventTypes": "allow"}))
    return path


def test_the_master_pins_the_plan_it_read_for_the_workers_it_forks(tmp_path, master_state):
    plan = write_plan(tmp_path / "plan.json", 5)
    settings = startup.start(None, environ_for(tmp_path, tracking_plan=str(plan)))
    assert pinned.pinned("COLLECTOR_TRACKING_PLAN", str(plan)) is settings.tracking_plan is not None


def test_a_sighup_reads_the_plan_again(tmp_path, master_state):
    plan = write_plan(tmp_path / "plan.json", 5)
    environ = environ_for(tmp_path, tracking_plan=str(plan))
    first = startup.start(None, environ).tracking_plan
    write_plan(plan, 50)
    again = startup.start(None, environ).tracking_plan
    assert again is not first and pinned.pinned("COLLECTOR_TRACKING_PLAN", str(plan)) is again
    assert again.check({"eventType": "a", "properties": {"n": 10}}) == []


def test_a_sighup_reading_a_broken_plan_keeps_the_configuration_in_effect_and_says_why_in_one_line(
    tmp_path, master_state, capsys
):
    plan = write_plan(tmp_path / "plan.json", 5)
    environ = environ_for(tmp_path, tracking_plan=str(plan))
    first = startup.start(None, environ)
    write_plan(plan, "lots")
    again = startup.configure(None, environ)  # no SystemExit: the master and its workers go on
    assert again["workers"] == startup.variables(first)["workers"]
    assert pinned.pinned("COLLECTOR_TRACKING_PLAN", str(plan)) is first.tracking_plan
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(
        "collector: reload refused, the service keeps its configuration: "
        f"COLLECTOR_TRACKING_PLAN: tracking plan {plan} at /eventTypes/a/properties/properties/n/maximum: "
    )


def test_a_broken_plan_at_the_first_start_stops_it(tmp_path, master_state):
    plan = write_plan(tmp_path / "plan.json", "lots")
    with pytest.raises(SystemExit) as stopped:
        startup.configure(None, environ_for(tmp_path, tracking_plan=str(plan)))
    assert str(stopped.value).startswith("collector: COLLECTOR_TRACKING_PLAN: tracking plan ")


def test_the_master_pins_the_suppressed_ids_it_read_and_a_sighup_reads_them_again(tmp_path, master_state):
    path = tmp_path / "suppressed.txt"
    path.write_text("u1\n")
    environ = environ_for(tmp_path, suppressed_ids_file=str(path))
    first = startup.start(None, environ).suppressed_ids_file
    assert first is not None and pinned.pinned("COLLECTOR_SUPPRESSED_IDS_FILE", str(path)) is first
    path.write_text("u1\nu2\n")
    again = startup.start(None, environ).suppressed_ids_file
    assert again is not None and again.ids == {"u1", "u2"}
    assert pinned.pinned("COLLECTOR_SUPPRESSED_IDS_FILE", str(path)) is again


def test_a_sighup_reading_a_broken_suppressed_ids_file_keeps_the_list_in_effect_and_says_why_in_one_line(
    tmp_path, master_state, capsys
):
    path = tmp_path / "suppressed.txt"
    path.write_text("u1\n")
    environ = environ_for(tmp_path, suppressed_ids_file=str(path))
    first = startup.start(None, environ)
    path.write_text("x" * 300 + "\n")
    startup.configure(None, environ)  # no SystemExit: the master and its workers go on
    assert pinned.pinned("COLLECTOR_SUPPRESSED_IDS_FILE", str(path)) is first.suppressed_ids_file
    path.unlink()
    startup.configure(None, environ)
    assert pinned.pinned("COLLECTOR_SUPPRESSED_IDS_FILE", str(path)) is first.suppressed_ids_file
    lines = capsys.readouterr().err.splitlines()
    prefix = "collector: reload refused, the service keeps its configuration: COLLECTOR_SUPPRESSED_IDS_FILE: "
    assert lines == [
        f"{prefix}{path}: line 1: an id longer than 256 characters (the longest userId or anonymousId accepted)",
        f"{prefix}{path}: cannot be read (No such file or directory)",
    ]


def test_a_suppressed_ids_file_inside_the_data_directory_stops_the_first_start(tmp_path, master_state):
    (tmp_path / "data").mkdir()
    path = tmp_path / "data" / "suppressed.txt"
    path.write_text("u1\n")
    with pytest.raises(SystemExit) as stopped:
        startup.configure(None, environ_for(tmp_path, suppressed_ids_file=str(path)))
    line = f"collector: COLLECTOR_SUPPRESSED_IDS_FILE={path} is inside COLLECTOR_DATA_DIR"
    assert str(stopped.value).startswith(line)


@pytest.mark.parametrize(
    ("workers", "threads", "expected"),
    [
        ("2", "4", 8),  # a request in flight per thread, and as many idle keep-alive connections
        ("3", "1", 2),
        ("1", "4", 1000),  # one worker takes every connection anyway: gunicorn's default
    ],
)
def test_a_worker_holds_twice_its_threads_in_connections_when_others_share_its_socket(workers, threads, expected):
    environ = {"COLLECTOR_WORKERS": workers, "COLLECTOR_THREADS": threads, "COLLECTOR_RATE_LIMIT_STORAGE": "memcached://m:1"}
    assert startup.worker_connections(load_settings(environ=environ)) == expected


def test_a_worker_takes_the_write_keys_its_master_read_not_the_file_as_it_is_now(tmp_path, master_state):
    # A worker recycled by max_requests reads its settings at any time: were it to read the keys file
    # itself, an edit would take effect in one worker without a reload, and a file broken mid-edit
    # would stop that worker from booting (gunicorn then halts the service).
    path = tmp_path / "keys.txt"
    path.write_text("k" * 16 + "\n")
    environ = environ_for(tmp_path, api_keys_file=str(path))
    first = startup.start(None, environ)
    path.write_text("m" * 16 + "\n")
    assert load_settings(environ).write_keys == {"k" * 16}
    path.write_text("short\n")
    assert load_settings(environ).write_keys == {"k" * 16}
    startup.configure(None, environ)  # a SIGHUP reading the broken file keeps the keys in effect
    assert pinned.pinned("COLLECTOR_API_KEYS_FILE", str(path)) is first.api_keys_file
    path.write_text("n" * 16 + "\n")
    assert startup.start(None, environ).write_keys == {"n" * 16}  # a SIGHUP reads it again
    assert load_settings(environ).write_keys == {"n" * 16}
