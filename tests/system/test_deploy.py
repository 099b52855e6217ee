"""The shipped deployment files: nginx's config in front of the real service, and the systemd unit."""

from __future__ import annotations

import configparser
import re

import pytest
import requests

from collector.errors import CODES
from tests.servers import ROOT

pytestmark = pytest.mark.system

SHIPPED_NGINX = ROOT / "deploy" / "nginx-collector.conf"
EVENT = {"messageBody": [{"eventType": "deployed"}]}


def assert_contract_error(response, status):
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) >= {"error", "message", "statusCode", "code"} and body["statusCode"] == status
    assert CODES[body["code"]].status == status
    return body


def post(url, body, headers=None, **kwargs):
    return requests.post(url + "/collect/event", json=body, headers=headers, timeout=30, **kwargs)


def test_behind_the_shipped_nginx_the_client_is_who_nginx_saw(start_service, start_nginx):
    service = start_service(trusted_proxies="1", rate_limit="3 per hour")
    nginx = start_nginx(service, shipped=SHIPPED_NGINX)
    forged = {"X-Forwarded-For": "198.51.100.66"}
    responses = [post(nginx.url, EVENT, forged) for _ in range(4)]
    assert [r.status_code for r in responses] == [201, 201, 201, 429]
    assert responses[0].headers["X-RateLimit-Limit"] == "3"
    assert int(responses[3].headers["Retry-After"]) > 0
    assert_contract_error(responses[3], 429)
    assert {event["client"]["ip"] for event in service.events()} == {"127.0.0.1"}


def test_every_error_nginx_or_the_collector_makes_is_json(start_service, start_nginx):
    service = start_service(trusted_proxies="1")
    nginx = start_nginx(service, shipped=SHIPPED_NGINX)
    padding = {"pad": "x" * (1536 * 1024)}  # between the collector's 1 MiB and nginx's 2 MiB
    too_big_for_collector = post(nginx.url, {"messageBody": [{"eventType": "a", "properties": padding}]})
    body = assert_contract_error(too_big_for_collector, 413)
    assert body["message"] == "request body is larger than 1048576 bytes"
    padding = {"pad": "x" * (3 * 1024 * 1024)}
    too_big_for_nginx = post(nginx.url, {"messageBody": [{"eventType": "a", "properties": padding}]})
    assert assert_contract_error(too_big_for_nginx, 413)["error"] == "Request Entity Too Large"
    assert_contract_error(post(nginx.url, {"messageBody": []}), 400)

    service.stop()
    down = post(nginx.url, EVENT)
    assert assert_contract_error(down, 503)["error"] == "Service Unavailable"
    assert down.headers["Retry-After"] == "5"


def test_the_systemd_unit_runs_the_service_and_outwaits_a_graceful_stop():
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str
    unit.read(ROOT / "deploy" / "collector.service")
    service = unit["Service"]
    assert service["ExecStart"].endswith("-m gunicorn -c gunicorn.conf.py app:app")
    assert service["Type"] == "notify" and service["KillMode"] == "mixed"
    graceful = int(re.search(r"^graceful_timeout = (\d+)$", (ROOT / "gunicorn.conf.py").read_text(), re.M).group(1))
    assert int(service["TimeoutStopSec"]) > graceful, "systemd must not kill workers still finishing requests"
    assert service["ReadWritePaths"] == "/var/lib/collector"
