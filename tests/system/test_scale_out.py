"""Several collectors behind one nginx, sharing one memcached: docs/scaling-out.md, for real.

Two gunicorn masters with their own data directories stand for two VMs; the
load balancer is the shipped nginx site with docs/scaling-out.md's own upstream block
(its addresses replaced by the instances'); the client sends from 127.0.0.2,
so the address the instances count is the one nginx put in X-Forwarded-For,
not the one they see nginx connect from (127.0.0.1).
"""

from __future__ import annotations

import http.client
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import orjson
import pytest

from tests.servers import ROOT, doc_section, recipe_site

pytestmark = pytest.mark.system

CLIENT = "127.0.0.2"


def readme_upstream_block() -> str:
    section = doc_section("scaling-out.md", "Scaling out")
    block = re.search(r"^upstream collector \{\n.*?^\}\n", section, re.M | re.S)
    assert block, 'docs/scaling-out.md should show an `upstream collector { ... }` block'
    return block.group(0)


def upstream_settings(block: str) -> set[str]:
    """The directives of an upstream block other than its `server` lines, comments dropped."""
    lines = (line.split("#", 1)[0].strip() for line in block.splitlines()[1:-1])
    return {" ".join(line.split()) for line in lines if line and not line.startswith("server ")}


def test_the_readmes_upstream_block_keeps_what_the_shipped_site_requires():
    # Only the addresses differ: an operator who pastes the page's block
    # over the shipped one keeps its keepalive_timeout, below gunicorn's own
    # keep-alive, without which a request sent on a connection gunicorn is
    # just closing gets a spurious 503.
    site = (ROOT / "deploy" / "nginx-collector.conf").read_text()
    shipped = re.search(r"^upstream collector \{\n.*?^\}\n", site, re.M | re.S)
    assert upstream_settings(readme_upstream_block()) == upstream_settings(shipped.group(0))


def post_from(nginx, host: str, body: dict) -> tuple[int, dict[str, str], bytes]:
    """A POST through the load balancer from the client's own address."""
    conn = http.client.HTTPConnection("127.0.0.1", nginx.port, timeout=30, source_address=(CLIENT, 0))
    try:
        conn.request("POST", "/collect/event", orjson.dumps(body), {"Host": host, "Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def ping_id(body: bytes) -> str:
    return orjson.loads(orjson.loads(body)["value"])["pingId"]


@pytest.fixture
def scaled_out(start_service, start_nginx, memcached, tmp_path):
    """scaled_out(**settings) -> (vm_a, vm_b, load_balancer, server_name)."""

    def start(**settings):
        settings = dict(rate_limit_storage=memcached.uri, trusted_proxies="1", workers="2", **settings)
        vm_a = start_service(data_dir=tmp_path / "vm-a", host_name="vm-a", **settings)
        vm_b = start_service(data_dir=tmp_path / "vm-b", host_name="vm-b", **settings)
        site, name = recipe_site(tmp_path, [vm_a.port, vm_b.port], readme_upstream_block())
        return vm_a, vm_b, start_nginx(sites={"collector": site}), name

    return start


def test_two_instances_behind_the_load_balancer_keep_one_exact_limit_and_every_event(scaled_out):
    vm_a, vm_b, nginx, name = scaled_out(rate_limit="100 per hour")
    bodies = [{"messageBody": [{"eventType": "scaled", "properties": {"n": n}}]} for n in range(160)]
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda body: post_from(nginx, name, body), bodies))

    assert sorted(status for status, _, _ in answers) == [201] * 100 + [429] * 60
    assert len({headers["X-RateLimit-Reset"] for _, headers, _ in answers}) == 1, (
        "one window, whichever instance answered"
    )
    acknowledged = [ping_id(body) for status, _, body in answers if status == 201]
    on_a = [event["pingId"] for event in vm_a.events()]
    on_b = [event["pingId"] for event in vm_b.events()]
    # Every acknowledged event on exactly one instance's disk, and nothing else.
    assert sorted(on_a + on_b) == sorted(acknowledged) and len(set(acknowledged)) == 100
    assert on_a and on_b, "both instances should have taken some"
    assert {event["client"]["ip"] for event in vm_a.events() + vm_b.events()} == {CLIENT}

    # The operator's view: both directories read as one stream, oldest first.
    cat = subprocess.run(
        [
            sys.executable,
            "-m",
            "collector",
            "events",
            "cat",
            "--data-dir",
            str(vm_a.data_dir),
            "--data-dir",
            str(vm_b.data_dir),
        ],
        cwd=ROOT,
        capture_output=True,
        timeout=60,
    )
    assert cat.returncode == 0, cat.stderr
    merged = [orjson.loads(raw) for raw in cat.stdout.splitlines()]
    assert sorted(event["pingId"] for event in merged) == sorted(acknowledged)
    received = [event["receivedAt"] for event in merged]
    assert received == sorted(received)


def test_an_instance_that_stops_leaves_the_other_to_take_every_request(scaled_out):
    vm_a, vm_b, nginx, name = scaled_out()
    vm_a.stop()
    answers = [post_from(nginx, name, {"messageBody": [{"eventType": "after_a_stopped"}]}) for _ in range(10)]
    assert [status for status, _, _ in answers] == [201] * 10
    assert sorted(event["pingId"] for event in vm_b.events()) == sorted(ping_id(body) for _, _, body in answers)
