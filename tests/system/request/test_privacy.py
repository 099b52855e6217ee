"""COLLECTOR_CLIENT_IP through gunicorn: in every mode but `full`, no client address is on disk, logs included."""

from __future__ import annotations

import gzip
import ipaddress
import re
import socket
from collections import defaultdict

import pytest
import requests

from collector.store import datafiles
from tests.processes import wait_until

pytestmark = pytest.mark.system

IPV4 = "198.51.100.77"
IPV6 = "2001:db8:1234:5678::1"
LOOPBACK = "127.0.0.1"
EVENT = {"messageBody": [{"eventType": "signup"}]}


def textual_forms(address: str) -> list[str]:
    """The ways an address can be written down: compressed, exploded, zero-stripped, hex, IPv4-mapped."""
    ip = ipaddress.ip_address(address)
    forms = {str(ip), ip.exploded, ip.packed.hex()}
    if ip.version == 6:
        forms.add(":".join(f"{int(group, 16):x}" for group in ip.exploded.split(":")))
        # The part truncation takes away, next to the part it keeps.
        forms.add(":".join(ip.exploded.split(":")[2:4]))
    else:
        mapped = ipaddress.IPv6Address(f"::ffff:{address}")
        forms |= {f"::ffff:{address}", mapped.compressed, mapped.exploded}
    return sorted(forms)


def everything_on_disk(service) -> str:
    """Every file of the data directory (gzip files inflated) and the service's whole log, as text."""
    parts = [service.log()]
    for path in sorted(service.data_dir.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            parts.append((gzip.decompress(data) if path.name.endswith(".gz") else data).decode(errors="replace"))
    return "\n".join(parts)


def send_unparseable_request(service) -> None:
    """A request gunicorn itself refuses, so that its own 'Invalid request from ip=' line is logged."""
    with socket.create_connection(("127.0.0.1", service.port), timeout=10) as conn:
        conn.sendall(b"GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n")
        conn.recv(1024)


def stored_ips(service) -> list:
    # Sorted: the workers write files of their own, so the order across them is not the order sent.
    return sorted((event["client"]["ip"] for event in service.events()), key=lambda ip: (ip is not None, ip or ""))


@pytest.mark.parametrize("log_format", ["json", "text"])
@pytest.mark.parametrize("client_ip", ["truncate", "hash", "drop"])
def test_no_full_address_is_written_anywhere(start_service, client_ip, log_format):
    service = start_service(client_ip=client_ip, log_format=log_format, trusted_proxies=1, log_level="debug")
    assert service.post(EVENT).status_code == 201  # from 127.0.0.1 itself
    for address in (IPV4, IPV6):
        assert service.post(EVENT, headers={"X-Forwarded-For": address}).status_code == 201
    assert service.post(b"{not json", headers={"X-Forwarded-For": IPV4}).status_code == 400
    send_unparseable_request(service)
    service.stop()

    ips = stored_ips(service)
    if client_ip == "truncate":
        assert ips == ["127.0.0.0", "198.51.100.0", "2001:db8:1234::"]
    elif client_ip == "hash":
        assert all(re.fullmatch(r"[0-9a-f]{32}", ip) for ip in ips) and len(set(ips)) == 3
    else:
        assert ips == [None, None, None]

    written = everything_on_disk(service).lower()
    for address in (IPV4, IPV6):
        for form in textual_forms(address):
            assert form.lower() not in written, f"{form} ({client_ip}, {log_format})"
    # 127.0.0.1 is also where gunicorn listens, which it logs: look at what is about requests.
    about_requests = [
        line for line in written.splitlines() if "listening at" not in line and "collector_bind" not in line
    ]
    for form in textual_forms(LOOPBACK):
        assert not [line for line in about_requests if form in line], form
    if client_ip == "drop":
        assert "invalid request from ip=-:" in written


def test_in_full_mode_the_addresses_are_kept_and_logged(start_service):
    # The contrast: the checks above would find the addresses.
    service = start_service(trusted_proxies=1)
    service.post(EVENT, headers={"X-Forwarded-For": IPV4})
    service.post(EVENT, headers={"X-Forwarded-For": IPV6})
    service.stop()
    assert stored_ips(service) == [IPV4, IPV6]
    assert IPV4 in service.log() and IPV6 in service.log()


def test_every_worker_hashes_a_client_alike(start_service, memcached):
    service = start_service(client_ip="hash", trusted_proxies=1, workers=2, rate_limit_storage=memcached.uri)
    service.wait_for_workers(2)

    def hashes_by_worker():
        headers = {"X-Forwarded-For": IPV4, "Connection": "close"}  # a new connection: any worker
        response = requests.post(service.url + "/collect/event", json=EVENT, headers=headers, timeout=10)
        assert response.status_code == 201
        found = defaultdict(set)
        for path in datafiles.data_files(service.data_dir):
            pid = re.search(r"-(\d+)-\d+\.jsonl", path.name).group(1)
            for line in datafiles.iter_lines(path):
                found[pid].add(re.search(rb'"ip":"([0-9a-f]+)"', line).group(1))
        return found if len(found) >= 2 else None

    found = wait_until(hashes_by_worker, 30, "both workers to store an event", interval=0)
    assert len(set().union(*found.values())) == 1, found
