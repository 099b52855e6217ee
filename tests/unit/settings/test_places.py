"""The settings naming a place: memcached's URI, gunicorn's bind address, the data directory."""

from __future__ import annotations

import os
import socket

import pytest
from limits.errors import ConfigurationError
from limits.storage import MemcachedStorage, storage_from_string

from collector.settings import SettingsError, load_settings, places
from collector.settings.places import host_port, storage_uri
from tests.unit.settings.invalid_values import INVALID_VALUES

ACCEPTED_STORAGES = [
    "memory://",
    "memcached://127.0.0.1:11211",
    "memcached://[::1]:11211",
    "memcached://cache-1.internal:11211",
    "memcached://10.0.0.5:11211,10.0.0.6:11211",
    "memcached://a:1, b:65535",
]


@pytest.mark.parametrize("uri", ACCEPTED_STORAGES)
def test_accepted_storage_uris_are_kept_as_written(uri):
    assert load_settings(environ={"COLLECTOR_RATE_LIMIT_STORAGE": f" {uri} "}).rate_limit_storage == uri


# Every URI the storage setting sees in these tests, and a few more that
# urllib reads loosely: none accepted here may be one limits cannot build.
CANDIDATES = [
    *ACCEPTED_STORAGES,
    *[value for variable, value, _ in INVALID_VALUES if variable == "COLLECTOR_RATE_LIMIT_STORAGE"],
    "memcached://a:11211?x=1",
    "memcached://a:11211/path",
    "memcached:///tmp/memcached.sock",
    "memcached://[fe80::1%eth0]:11211",
    "memcached://a b:11211",
    "memcached://a:+1",
    "memcached://a:-1",
    "memcached://a:011211",
]


@pytest.mark.parametrize("uri", [uri for uri in CANDIDATES if uri.startswith("memcached")])
def test_every_memcached_uri_accepted_is_one_limits_builds_with_the_same_hosts(uri):
    try:
        storage_uri(uri)
    except ValueError:
        return  # not valid: nothing to agree on
    storage = storage_from_string(uri)
    assert isinstance(storage, MemcachedStorage)
    locations = [host_port(location.strip(), lowest_port=1) for location in uri[len("memcached://") :].split(",")]
    assert storage.hosts == [(host.lower(), port) for host, port in locations]


def test_limits_itself_would_take_a_port_the_setting_says_is_not_valid():
    # Why the setting checks ports itself: limits builds this storage, and
    # only the first request would fail.
    assert storage_from_string("memcached://a:0").hosts == [("a", 0)]
    with pytest.raises(ConfigurationError):
        storage_from_string("memcached://nohost")


@pytest.mark.parametrize(
    "bind",
    ["127.0.0.1:8000", "0.0.0.0:0", "[::1]:8000", "localhost:65535", "unix:/run/collector.sock", "unix:///tmp/c.sock"],
)
def test_addresses_gunicorn_can_bind_are_accepted(bind):
    assert load_settings(environ={"COLLECTOR_BIND": bind}).bind == bind


def test_a_data_directory_that_exists_or_can_be_created_is_accepted_and_not_created(tmp_path):
    assert load_settings(environ={"COLLECTOR_DATA_DIR": str(tmp_path)}).data_dir == tmp_path
    later = tmp_path / "new" / "deeper"
    assert load_settings(environ={"COLLECTOR_DATA_DIR": str(later)}).data_dir == later
    assert not (tmp_path / "new").exists(), "reading settings must not create the directory"


def _not_valid(raw: str, problem: str) -> str:
    return (
        f"COLLECTOR_DATA_DIR={raw!r} is not valid: "
        f"expected a directory that can be written, or created: {problem}"
    )


def test_a_data_directory_that_is_a_file_is_not_valid(tmp_path):
    file = tmp_path / "events"
    file.write_text("a file")
    with pytest.raises(SettingsError) as caught:
        load_settings(environ={"COLLECTOR_DATA_DIR": str(file)})
    assert str(caught.value) == _not_valid(str(file), f"{file} is not a directory")


def test_a_data_directory_under_a_file_is_not_valid(tmp_path):
    file = tmp_path / "events"
    file.write_text("a file")
    with pytest.raises(SettingsError) as caught:
        load_settings(environ={"COLLECTOR_DATA_DIR": str(file / "a" / "b")})
    assert str(caught.value) == _not_valid(str(file / "a" / "b"), f"{file} is not a directory")


def test_a_data_directory_behind_a_dangling_link_is_not_valid(tmp_path):
    link = tmp_path / "data"
    link.symlink_to(tmp_path / "gone")
    with pytest.raises(SettingsError, match=r"data is not a directory$"):
        load_settings(environ={"COLLECTOR_DATA_DIR": str(link)})


def test_a_relative_data_directory_is_checked_from_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / "data").write_text("a file")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SettingsError) as caught:
        load_settings(environ={})
    assert str(caught.value) == _not_valid("./data", f"{tmp_path / 'data'} is not a directory")


def test_a_port_another_process_listens_on_is_named_as_in_use():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert places.listener_on(f"127.0.0.1:{port}") == (
            f"127.0.0.1:{port} is in use by another process (Address already in use)"
        )
    assert places.listener_on(f"127.0.0.1:{port}") is None


def test_any_free_port_and_unix_sockets_are_not_probed():
    assert places.listener_on("127.0.0.1:0") is None
    assert places.listener_on("unix:/run/collector.sock") is None


def test_a_socket_passed_by_systemd_is_recognised_by_its_pid():
    me = str(os.getpid())
    assert places.socket_activated({"LISTEN_PID": me, "LISTEN_FDS": "1"})
    assert not places.socket_activated({"LISTEN_PID": "1", "LISTEN_FDS": "1"})  # meant for another process
    assert not places.socket_activated({"LISTEN_PID": me, "LISTEN_FDS": "0"})
    assert not places.socket_activated({})


def test_a_socket_passed_by_systemd_must_be_where_collector_bind_says():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert places.activated_socket_mismatch(f"127.0.0.1:{port}", listener.fileno()) is None
        assert places.activated_socket_mismatch(f"localhost:{port}", listener.fileno()) is None
        assert places.activated_socket_mismatch(f"127.0.0.1:{port + 1}", listener.fileno()) == (
            f"127.0.0.1:{port + 1} is not where systemd's socket listens (127.0.0.1:{port}): "
            "make ListenStream= in collector.socket the same"
        )
        assert listener.fileno() >= 0  # the check leaves the socket open


def test_a_unix_socket_passed_by_systemd_is_compared_by_path(tmp_path):
    path = str(tmp_path / "collector.sock")
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(path)
        listener.listen()
        assert places.activated_socket_mismatch(f"unix:{path}", listener.fileno()) is None
        assert places.activated_socket_mismatch(f"unix://{path}", listener.fileno()) is None
        assert "is not where systemd's socket listens" in places.activated_socket_mismatch(
            "127.0.0.1:8000", listener.fileno()
        )


HOST_NAME = "1 to 64 ASCII letters, digits, '.', '_' or '-', starting with a letter or digit (it is part of file names)"


@pytest.mark.parametrize(
    "raw", ["a/b", "..", "../x", "vm a", "-vm", ".hidden", "x" * 65, "x" * 300, "vm\u00e9", "vm:a"]
)
def test_a_host_name_that_cannot_be_part_of_a_file_name_is_not_valid(raw):
    with pytest.raises(SettingsError) as caught:
        load_settings(environ={"COLLECTOR_HOST_NAME": raw})
    assert str(caught.value) == f"COLLECTOR_HOST_NAME={raw!r} is not valid: expected {HOST_NAME}"


@pytest.mark.parametrize("raw", ["vm-a", "VM_1.example.com", "x" * 64, "7"])
def test_host_names_are_kept_as_written(raw):
    assert load_settings(environ={"COLLECTOR_HOST_NAME": f" {raw} "}).host_name == raw


def test_an_odd_machine_host_name_is_made_safe_for_file_names(monkeypatch):
    monkeypatch.setattr(socket, "gethostname", lambda: "my laptop/2" + "x" * 70)
    host = load_settings(environ={}).host_name
    assert host == ("my_laptop_2" + "x" * 70)[:64]
    assert load_settings(environ={"COLLECTOR_HOST_NAME": host}).host_name == host
