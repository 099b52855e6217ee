"""Recycled workers, SIGHUP reloads and restarts drop no connection, directly and behind the nginx recipe.

Clients open a new connection per request (as beacons and nginx beyond its
idle pool do), so connections are always waiting to be accepted while
workers stop: none may be reset, and every acknowledged event is on disk
exactly once.
"""

from __future__ import annotations

import socket

import pytest

from tests.churn import post_on_new_connections
from tests.servers import free_port, recipe_site
from tests.system.reloading import Load, assert_each_acknowledged_and_stored_once, hup_and_wait

pytestmark = pytest.mark.system

SETTINGS = dict(workers="2", trusted_proxies="1", rate_limit="1000000 per minute", access_log="off")


@pytest.fixture(params=["direct", "nginx"])
def front(request, start_nginx, tmp_path):
    """front(service) -> the port clients send to: the service's own, or the recipe's nginx in front of it."""

    def port_for(service) -> int:
        if request.param == "direct":
            return service.port
        site, _ = recipe_site(tmp_path, [service.port])
        return start_nginx(sites={"collector": site}).port

    return port_for


def test_recycled_workers_drop_no_connection(start_service, front):
    service = start_service(
        bind=f"127.0.0.1:{free_port()}", extra_env={"GUNICORN_CMD_ARGS": "--max-requests 40"}, **SETTINGS
    )
    outcomes = post_on_new_connections(front(service), 400, clients=8)
    assert_each_acknowledged_and_stored_once(service, outcomes, 400)
    assert service.log().count("Autorestarting worker") >= 5


def test_sighup_reloads_drop_no_connection(start_service, front):
    service = start_service(bind=f"127.0.0.1:{free_port()}", **SETTINGS)
    load = Load(front(service))
    try:
        for _ in range(3):
            load.wait_for_more()
            hup_and_wait(service)
        load.wait_for_more()
    finally:
        outcomes = load.stop()
    assert_each_acknowledged_and_stored_once(service, outcomes, 160)


def test_a_socket_activated_restart_drops_no_connection(start_service, front):
    # What systemd does with deploy/collector.socket: it holds the listening
    # socket across the service's restarts, so connections made meanwhile
    # wait in its queue for the next gunicorn.
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(4096)
        port = listener.getsockname()[1]
        service = start_service(bind=f"127.0.0.1:{port}", listen_socket=listener, **SETTINGS)
        load = Load(front(service))
        try:
            load.wait_for_more()
            assert service.stop() == 0
            service.start()
            load.wait_for_more()
            hup_and_wait(service)  # a reload keeps working with the socket from systemd
            load.wait_for_more()
        finally:
            outcomes = load.stop()
        assert_each_acknowledged_and_stored_once(service, outcomes, 120)
