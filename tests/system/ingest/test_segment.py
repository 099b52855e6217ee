"""Segment's own SDKs, unchanged, against the real service: the Python library and the Node library.

The Python SDK is a test extra (setup.cfg); the Node SDK is installed from the
npm registry into a temporary directory once per session. Each test sends
messages with known messageIds and reads the lines stored: every one must be
there exactly once, through 503s, dropped connections and 429s.
"""

from __future__ import annotations

import json
import subprocess
import uuid

import pytest

from tests.processes import ROOT, wait_until
from tests.servers import recipe_site, require_binary
from tests.system.clients.lossy_proxy import LossyProxy

pytestmark = pytest.mark.system

KEY = "segment-sdk-key-0123456789abcdef"
NODE_SDK = "@segment/analytics-node@3.1.0"
NODE_DRIVER = ROOT / "tests" / "system" / "ingest" / "segment_node_driver.js"
DEADLINE = 120  # seconds: a generous bound on a busy CI machine, never a measured duration
CALL_TYPES = ("track", "page", "screen", "identify", "group", "alias")


@pytest.fixture(scope="session")
def node_sdk(tmp_path_factory):
    """The path of @segment/analytics-node, installed from the npm registry into a temporary directory."""
    npm = require_binary("npm", "/usr/bin")
    require_binary("node", "/usr/bin")
    where = tmp_path_factory.mktemp("segment-node")
    subprocess.run([npm, "init", "-y"], cwd=where, check=True, capture_output=True, timeout=120)
    subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", NODE_SDK], cwd=where, check=True, capture_output=True, timeout=600
    )
    return str(where / "node_modules" / "@segment" / "analytics-node")


def one_of_each(prefix: str) -> list[tuple[str, dict]]:
    """A call of every type, each with its own messageId, as (method, keyword arguments in Segment's names)."""
    return [
        (method, {**params, "messageId": f"{prefix}-{method}"})
        for method, params in [
            ("track", {"userId": "u1", "event": "Order Completed", "properties": {"total": 9.5}}),
            ("page", {"userId": "u1", "name": "Home", "properties": {"url": "https://example.com/"}}),
            ("screen", {"userId": "u1", "name": "Cart"}),
            ("identify", {"userId": "u1", "traits": {"plan": "pro"}}),
            ("group", {"userId": "u1", "groupId": "g1", "traits": {"name": "ACME"}}),
            ("alias", {"userId": "u2", "previousId": "u1"}),
        ]
    ]


def tracks(prefix: str, count: int) -> list[tuple[str, dict]]:
    return [("track", {"userId": "u1", "event": "Item Viewed", "messageId": f"{prefix}-{n}"}) for n in range(count)]


PYTHON_ARGUMENTS = {
    "userId": "user_id", "messageId": "message_id", "groupId": "group_id", "previousId": "previous_id",
}


def send_with_python(host: str, calls: list[tuple[str, dict]], **options) -> list:
    """The calls through segment-analytics-python's Client (with `options`); the errors it reported."""
    from segment.analytics.client import Client

    errors = []
    client = Client(
        KEY, host=host, upload_interval=0.05, upload_size=100, on_error=lambda error, batch: errors.append(error),
        **options,
    )
    try:
        for method, params in calls:
            getattr(client, method)(**{PYTHON_ARGUMENTS.get(name, name): value for name, value in params.items()})
        client.flush()
    finally:
        client.shutdown()
    return errors


def send_with_node(module: str, host: str, calls: list[tuple[str, dict]]) -> list:
    """The calls through @segment/analytics-node, in a node process; the errors it emitted."""
    plan = {
        "module": module,
        "host": host,
        "writeKey": KEY,
        "settings": {"flushAt": 100, "flushInterval": 50, "maxRetries": 10},
        "timeoutMs": DEADLINE * 1000,
        "calls": [list(call) for call in calls],
    }
    done = subprocess.run(
        [require_binary("node", "/usr/bin"), str(NODE_DRIVER)],
        input=json.dumps(plan), capture_output=True, text=True, timeout=DEADLINE + 60, check=True,
    )
    return json.loads(done.stdout.splitlines()[-1])["errors"]


@pytest.fixture(params=["python", "node"])
def sdk(request):
    """send(host, calls) -> errors, through one of the SDKs."""
    if request.param == "python":
        return send_with_python
    module = request.getfixturevalue("node_sdk")
    return lambda host, calls: send_with_node(module, host, calls)


def stored_ids(service) -> list[str]:
    return sorted(event["eventId"] for event in service.events())


def sent_ids(calls) -> list[str]:
    return sorted(params["messageId"] for _, params in calls)


def test_every_call_type_and_a_batch_of_1000_arrive_once_each(start_service, sdk):
    service = start_service(api_keys=KEY)
    prefix = uuid.uuid4().hex
    calls = one_of_each(prefix) + tracks(prefix, 1000)
    assert sdk(service.url, calls) == []
    assert stored_ids(service) == sent_ids(calls)
    by_id = {event["eventId"]: event for event in service.events()}
    assert [by_id[f"{prefix}-{method}"]["eventType"] for method in CALL_TYPES] == [
        "Order Completed", *CALL_TYPES[1:]
    ]
    assert {event["type"] for event in by_id.values()} == set(CALL_TYPES)


def test_the_sdks_send_through_the_nginx_recipe(start_service, start_nginx, tmp_path, sdk):
    service = start_service(api_keys=KEY, trusted_proxies="1")
    site, _ = recipe_site(tmp_path, [service.port])
    nginx = start_nginx(sites={"collector": site})
    calls = one_of_each(uuid.uuid4().hex) + tracks(uuid.uuid4().hex, 200)
    assert sdk(nginx.url, calls) == []
    assert stored_ids(service) == sent_ids(calls)


def test_the_python_sdks_gzipped_batches_are_stored(start_service):
    service = start_service(api_keys=KEY)
    calls = one_of_each(uuid.uuid4().hex) + tracks(uuid.uuid4().hex, 300)
    assert send_with_python(service.url, calls, gzip=True) == []
    assert stored_ids(service) == sent_ids(calls)


@pytest.mark.parametrize("failure", ["503", "dropped connection"])
def test_a_retry_after_a_failure_stores_once(start_service, sdk, failure):
    service = start_service(api_keys=KEY, dedupe="event")
    calls = one_of_each(uuid.uuid4().hex)
    lossy = {"lose": 1} if failure == "dropped connection" else {"lose": 0, "refuse": 1}
    with LossyProxy(service.port, **lossy) as proxy:
        assert sdk(proxy.url, calls) == []
    assert stored_ids(service) == sent_ids(calls)
    assert proxy.refused + len(proxy.forwarded) >= 2  # the first attempt failed, a retry was sent


def test_a_429_makes_the_sdk_back_off_and_deliver_later(start_service, sdk):
    service = start_service(api_keys=KEY, rate_limit="1 per second")
    calls = tracks(uuid.uuid4().hex, 500)  # five uploads of 100, so the limit refuses some
    assert sdk(service.url, calls) == []
    assert stored_ids(service) == sent_ids(calls)
    wait_until(lambda: '"status":429' in service.log(), DEADLINE, "a 429 in the access log")
