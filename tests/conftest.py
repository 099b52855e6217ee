"""Fixtures shared by every tier: apps for the test client, real servers for system tests."""

from __future__ import annotations

import pytest

from collector import create_app, ratelimit, service
from tests.servers import ROOT, Memcached, Nginx, Service, require_binary, service_env


@pytest.fixture
def make_app(tmp_path):
    """create_app with settings overrides; the data directory is a fresh tmp dir."""
    apps = []

    def make(**overrides):
        overrides.setdefault("data_dir", str(tmp_path / "data"))
        app = create_app(overrides)
        apps.append(app)
        return app

    yield make
    for app in apps:
        service.of(app).writer.close()
        ratelimit.close(app)


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def start_service(tmp_path):
    """Start the collector under gunicorn: start_service(rate_limit="5/minute", ...).

    listen_socket=: a listening socket the test holds, passed to gunicorn as systemd passes its socket unit's.
    command=, cwd=: another way to start it (`collector serve`), from another directory.
    """
    services = []

    def start(data_dir=None, extra_env=None, listen_socket=None, command=None, cwd=ROOT, **settings) -> Service:
        data_dir = data_dir or tmp_path / f"data{len(services)}"
        env = {**service_env(data_dir, **settings), **(extra_env or {})}
        service = Service(data_dir, env, tmp_path / f"gunicorn{len(services)}.log", command=command, cwd=cwd)
        service.listen_socket = listen_socket  # passed as systemd's socket activation does
        services.append(service)
        return service.start()

    yield start
    for started in services:
        started.stop()
    # Whatever a test did to it, the service never answered 500 nor logged a
    # traceback: the next such bug is caught wherever it comes from.
    errors = [error for started in services for error in started.server_errors()]
    assert not errors, "the service logged a bug:\n" + "\n\n".join(errors[:5])


@pytest.fixture
def make_memcached():
    """Start another real memcached: make_memcached()."""
    servers = []

    def make() -> Memcached:
        server = Memcached(require_binary("memcached", "/usr/bin", "/usr/local/bin"))
        servers.append(server)
        return server.start()

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def memcached(make_memcached):
    return make_memcached()


@pytest.fixture
def start_nginx(tmp_path):
    """Start a real nginx.

    start_nginx(service, forwarded_for="$remote_addr"): the tests' minimal config in front of `service`;
    start_nginx(sites={"default": ..., "collector": ...}): the package's own nginx.conf with these
    sites enabled, as on a VM (tests.servers.Nginx.stock).
    """
    servers = []

    def start(
        service: Service | None = None, forwarded_for: str = "$proxy_add_x_forwarded_for", *, sites=None
    ) -> Nginx:
        binary = require_binary("nginx", "/usr/sbin", "/usr/local/sbin")
        prefix = tmp_path / f"nginx{len(servers)}"
        if sites is None:
            server = Nginx.minimal(binary, prefix, service.port, forwarded_for)
        else:
            server = Nginx.stock(binary, prefix, sites)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()
