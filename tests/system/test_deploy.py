"""The shipped deployment files: nginx's config in front of the real service, and the systemd unit.

The nginx tests reproduce a fresh Debian/Ubuntu VM: the package's own
nginx.conf and default site (tests/servers.py moves only pid, logs, temp files,
the site directories and the ports), the recipe installed as docs/deploying.md's
"Behind nginx" says, and requests with the Host header clients send.
"""

from __future__ import annotations

import configparser
import os
import re
import shutil
import signal
import socket

import orjson
import pytest
import requests

from collector.errors import CODES
from collector.server import startup
from tests.servers import ROOT, Nginx, doc_section, recipe_site, require_binary, stock_nginx_file, wait_until

pytestmark = pytest.mark.system

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


@pytest.fixture
def behind_nginx(start_service, start_nginx, tmp_path):
    """The service behind the recipe on a VM that serves only the collector: the default site removed.

    behind_nginx(trusted_proxies="1", ...) -> (service, nginx, server_name)
    """

    def start(**settings):
        settings.setdefault("trusted_proxies", "1")
        service = start_service(**settings)
        site, name = recipe_site(tmp_path, [service.port])
        return service, start_nginx(sites={"collector": site}), name

    return start


def test_on_a_stock_nginx_the_recipe_answers_its_name_and_the_default_site_the_rest(
    start_service, start_nginx, tmp_path
):
    service = start_service(trusted_proxies="1")
    site, name = recipe_site(tmp_path, [service.port])
    nginx = start_nginx(sites={"default": stock_nginx_file("sites-available/default"), "collector": site})
    answer = post(nginx.url, EVENT, {"Host": name})
    assert answer.status_code == 201 and len(service.events()) == 1
    # Another name, or the VM's address (`curl http://203.0.113.7/...`), is
    # the package's default site's: its HTML 404, not the collector.
    for other in (f"127.0.0.1:{nginx.port}", "other.example.net"):
        answer = post(nginx.url, EVENT, {"Host": other})
        assert answer.status_code == 404 and answer.headers["Content-Type"] == "text/html"
    assert len(service.events()) == 1


def test_with_the_default_site_removed_the_recipe_answers_every_name(behind_nginx):
    service, nginx, name = behind_nginx()
    for host in (name, f"127.0.0.1:{nginx.port}", "other.example.net"):
        assert post(nginx.url, EVENT, {"Host": host}).status_code == 201
        assert requests.get(nginx.url + "/readyz", headers={"Host": host}, timeout=10).json()["status"] == "ok"
    assert len(service.events()) == 3


def test_claiming_default_server_beside_the_stock_default_site_stops_nginx(tmp_path):
    # Why the recipe does not claim default_server (docs/deploying.md, "Behind nginx").
    site, _ = recipe_site(tmp_path, [8000])
    claiming = re.sub(r"^(\s*listen\s+\S+)\s*;", r"\1 default_server;", site, flags=re.M)
    nginx = Nginx.stock(
        require_binary("nginx", "/usr/sbin", "/usr/local/sbin"),
        tmp_path / "nginx",
        {"default": stock_nginx_file("sites-available/default"), "collector": claiming},
    )
    checked = nginx.check_config()
    assert checked.returncode != 0 and "duplicate default server" in checked.stderr


def test_behind_the_recipe_the_client_is_who_nginx_saw(behind_nginx):
    service, nginx, name = behind_nginx(rate_limit="3 per hour")
    forged = {"Host": name, "X-Forwarded-For": "198.51.100.66"}
    responses = [post(nginx.url, EVENT, forged) for _ in range(4)]
    assert [r.status_code for r in responses] == [201, 201, 201, 429]
    assert responses[0].headers["X-RateLimit-Limit"] == "3"
    assert int(responses[3].headers["Retry-After"]) > 0
    assert_contract_error(responses[3], 429)
    assert {event["client"]["ip"] for event in service.events()} == {"127.0.0.1"}


def test_nginx_logs_each_request_without_its_query_string(behind_nginx):
    _, nginx, name = behind_nginx()
    answer = requests.post(
        nginx.url + "/collect/event?writeKey=s3cret-key-123", json=EVENT, headers={"Host": name}, timeout=30
    )
    assert answer.status_code in (201, 401)  # whether write keys are on is not the point
    log = nginx.prefix / "access.log"
    line = wait_until(
        lambda: log.exists() and "/collect/event" in log.read_text() and log.read_text(), 30, "the access log line"
    )
    assert f'"POST /collect/event HTTP/1.1" {answer.status_code} ' in line
    assert "s3cret" not in line


def test_a_key_in_a_header_stays_out_of_nginxs_logs_as_the_readme_says(behind_nginx):
    service, nginx, name = behind_nginx()
    service.stop()  # nginx logs an error for each request now, naming its request line
    header_key, query_key = "h3ader-key-0123456789", "qu3ry-key-0123456789"
    for headers in ({"X-Collector-Key": header_key}, {"Authorization": f"Bearer {header_key}"}):
        assert post(nginx.url, EVENT, {"Host": name, **headers}).status_code == 503
    # A header line without its colon: nginx refuses it, naming it only at `info`, below the stock level.
    malformed = POST + f"X-Collector-Key {header_key}\r\nContent-Length: 2\r\n\r\n{{}}".encode()
    assert raw_exchange(nginx.port, malformed)[0] == 400
    answer = requests.post(
        nginx.url + f"/collect/event?writeKey={query_key}", json=EVENT, headers={"Host": name}, timeout=30
    )
    assert answer.status_code == 503
    wait_until(lambda: query_key in nginx.error_log(), 10, "nginx's error line for the last request")
    logs = nginx.error_log() + (nginx.prefix / "access.log").read_text()
    assert header_key not in logs
    # nginx cannot be told to leave the query out of its error log: docs/deploying.md says so, and to use a header.
    section = doc_section("deploying.md", "Behind nginx")
    assert "error log" in section and "X-Collector-Key" in section and "cannot" in section


def test_only_the_public_paths_reach_the_collector(behind_nginx):
    service, nginx, name = behind_nginx()
    assert requests.get(service.url + "/metrics", timeout=10).status_code == 200  # there, on the inside
    for path in (
        "/metrics",
        "//metrics",
        "/%6Detrics",
        "/metrics/",
        "/metrics?x=1",
        "/",
        "/.collector-errors/bad_request",
    ):
        answer = requests.get(nginx.url + path, headers={"Host": name}, timeout=10)
        body = assert_contract_error(answer, 404)
        assert body["code"] == "not_found", path
        assert "collector_" not in answer.text
    assert requests.get(nginx.url + "/healthz", timeout=10).json()["status"] == "ok"
    assert requests.get(nginx.url + "/openapi.json", timeout=10).json()["paths"]
    # The collector's own answers pass through, e.g. its 405 naming the methods allowed.
    answer = requests.get(nginx.url + "/collect/event", timeout=10)
    assert assert_contract_error(answer, 405)["code"] == "method_not_allowed" and "POST" in answer.headers["Allow"]


def test_odd_paths_and_methods_get_no_html_directly_and_through_nginx(behind_nginx):
    service, nginx, name = behind_nginx()
    # nginx matches `location = /collect/event` on the merged path but passes the path as sent.
    for url in (service.url, nginx.url):
        for path in ("/collect//event", "//collect/event"):
            answer = requests.post(url + path, json=EVENT, headers={"Host": name}, timeout=30, allow_redirects=False)
            assert assert_contract_error(answer, 404)["code"] == "not_found", (url, path)
        answer = requests.options(url + "/healthz", headers={"Host": name}, timeout=30)
        assert answer.status_code == 200 and "html" not in answer.headers.get("Content-Type", "")
    assert service.events() == []


def raw_exchange(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes, read the answer until nginx closes: (status, headers, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(request)
        reply = b""
        while chunk := conn.recv(65536):
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    return int(status_line.split(" ")[1]), headers, body


POST = b"POST /collect/event HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
# Requests nginx refuses itself, before the collector sees them.
MALFORMED = {
    "not HTTP": (b"HELLO\r\n\r\n", 400, "bad_request"),
    "TLS spoken to port 80": (bytes.fromhex("160301020001000001fc0303") + bytes(64), 400, "bad_request"),
    "a header line without a colon": (b"GET /healthz HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n", 400, "bad_request"),
    "no Host in HTTP/1.1": (b"GET /healthz HTTP/1.1\r\n\r\n", 400, "bad_request"),
    "two Hosts": (b"GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "bad_request"),
    "HTTP/2.0 in the request line": (b"GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n", 400, "bad_request"),
    "a header line over 4 KiB": (
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 5000 + b"\r\n\r\n",
        400,
        "bad_request",
    ),
    # 4,095 bytes: one more than gunicorn's own limit, which it answers with HTML.
    "a request line over 4 KiB": (
        b"POST /collect/event?" + b"a" * 4066 + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
        400,
        "bad_request",
    ),
    "a bad Content-Length": (POST + b"Content-Length: ten\r\n\r\n{}", 400, "bad_request"),
    "a bad chunk size": (POST + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", 400, "bad_request"),
    "Content-Length and Transfer-Encoding": (
        POST + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
        "bad_request",
    ),
    "a Transfer-Encoding other than chunked": (
        POST + b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        400,
        "unsupported_transfer_coding",
    ),
    "TRACE": (b"TRACE /collect/event HTTP/1.1\r\nHost: x\r\n\r\n", 405, "method_not_allowed"),
}


def test_malformed_requests_get_nginx_answers_in_the_contracts_json(behind_nginx):
    service, nginx, _ = behind_nginx()
    assert len(MALFORMED["a request line over 4 KiB"][0].split(b"\r\n")[0]) == 4095
    wrong = {}
    for case, (request, status, code) in MALFORMED.items():
        got_status, headers, body = raw_exchange(nginx.port, request)
        parsed = orjson.loads(body) if headers.get("content-type") == "application/json" else {}
        shape = (sorted(parsed), parsed.get("statusCode"), parsed.get("code"))
        if (got_status, shape) != (status, (["code", "error", "message", "statusCode"], status, code)):
            wrong[case] = (got_status, headers.get("content-type"), body[:200])
    assert not wrong, wrong
    assert service.events() == []
    # The longest request line nginx passes on is one gunicorn still reads: the collector answers.
    longest = b"POST /collect/event?pad=" + b"a" * 4061 + b" HTTP/1.1"
    assert len(longest) == 4094
    event = orjson.dumps(EVENT)
    request = (
        longest
        + b"\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
        % len(event)
    )
    status, headers, body = raw_exchange(nginx.port, request + event)
    assert (status, headers["content-type"]) == (201, "application/json"), body
    assert len(service.events()) == 1


def test_bodies_over_either_limit_get_json_413s(behind_nginx):
    _, nginx, _ = behind_nginx()
    padding = {"pad": "x" * (1536 * 1024)}  # between the collector's 1 MiB and nginx's 2 MiB
    too_big_for_collector = post(nginx.url, {"messageBody": [{"eventType": "a", "properties": padding}]})
    body = assert_contract_error(too_big_for_collector, 413)
    assert body["message"] == "request body is larger than 1048576 bytes"
    padding = {"pad": "x" * (3 * 1024 * 1024)}
    too_big_for_nginx = post(nginx.url, {"messageBody": [{"eventType": "a", "properties": padding}]})
    assert assert_contract_error(too_big_for_nginx, 413)["code"] == "body_too_large"
    assert_contract_error(post(nginx.url, {"messageBody": []}), 400)


def test_gunicorn_stopped_gets_a_json_503_with_retry_after(behind_nginx):
    service, nginx, _ = behind_nginx()
    service.stop()
    for answer in (post(nginx.url, EVENT), requests.get(nginx.url + "/readyz", timeout=30)):
        assert assert_contract_error(answer, 503)["code"] == "collector_unavailable"
        assert answer.headers["Retry-After"] == "5"


def test_readyz_names_no_path_through_nginx(behind_nginx):
    service, nginx, name = behind_nginx()
    ready = requests.get(nginx.url + "/readyz", headers={"Host": name}, timeout=30)
    assert ready.json() == {"status": "ok"}
    shutil.rmtree(service.data_dir)
    service.data_dir.write_text("a file, not a directory")  # a mount gone wrong
    unready = requests.get(nginx.url + "/readyz", headers={"Host": name}, timeout=30)
    assert assert_contract_error(unready, 503)["code"] == "storage_unavailable"
    assert str(service.data_dir) not in ready.text + unready.text
    service.data_dir.unlink()
    service.stop()
    assert f"the data directory {service.data_dir} is not writable" in service.log()


def test_gunicorn_hung_gets_a_json_503_after_the_recipes_read_timeout(behind_nginx):
    service, nginx, _ = behind_nginx()
    paused = [service.process.pid, *service.worker_pids()]
    for pid in paused:
        os.kill(pid, signal.SIGSTOP)
    try:
        answer = post(nginx.url, {"messageBody": [{"eventType": "while_hung"}]})  # waits proxy_read_timeout
    finally:
        for pid in paused:
            os.kill(pid, signal.SIGCONT)
    body = assert_contract_error(answer, 503)
    assert body["code"] == "collector_unavailable" and answer.headers["Retry-After"] == "5"
    # As the 503 says, the request may still be stored: gunicorn reads it once it runs again.
    wait_until(lambda: [event["eventType"] for event in service.events()] == ["while_hung"], 30, "the late write")
    assert post(nginx.url, EVENT).status_code == 201


def test_nginx_failing_itself_gets_a_json_500(behind_nginx):
    service, nginx, _ = behind_nginx()
    # A body over client_body_buffer_size (1 MiB) goes to nginx's temp dir; take it away.
    shutil.rmtree(nginx.prefix / "body")
    answer = post(nginx.url, {"messageBody": [{"eventType": "a", "properties": {"pad": "x" * (1536 * 1024)}}]})
    assert assert_contract_error(answer, 500)["code"] == "internal_error"
    assert service.events() == []


def test_the_systemd_unit_runs_the_service_and_outwaits_a_graceful_stop():
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str
    unit.read(ROOT / "deploy" / "collector.service")
    service = unit["Service"]
    assert service["ExecStart"] == "/opt/collector/.venv/bin/collector serve"
    assert service["ExecReload"] == "/bin/kill -s HUP $MAINPID"  # gunicorn's graceful reload
    assert service["Type"] == "notify" and service["KillMode"] == "mixed"
    graceful = startup.GRACEFUL_TIMEOUT
    assert int(service["TimeoutStopSec"]) > graceful, "systemd must not kill workers still finishing requests"
    assert service["ReadWritePaths"] == "/var/lib/collector"
