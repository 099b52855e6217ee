"""Refusals at the door, end to end: the real collector under gunicorn, its /metrics, and `collector console`.

A page on an origin left out of COLLECTOR_CORS_ORIGINS gets its preflight
refused and sends nothing; a client with a revoked key gets 401s. Both are
seen in the collector's metrics (the preflight by its origin) and in the
console's API with their detail, and the key a client tried is never written
anywhere: not in a letter, not in a log, not in what the console answers.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from collector.deadletters import letters as deadletters
from collector.ingest.keys import key_id
from tests.servers import wait_until

pytestmark = pytest.mark.system

SHOP = "https://shop.example"
EVIL = "https://evil.example"
WRITE_KEY = "live-write-key-0123456789"
WRONG = "revoked-write-key-9876543210"


def samples(url: str) -> dict[tuple[str, tuple], float]:
    text = requests.get(url + "/metrics", timeout=30).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_a_refused_preflight_and_a_401_are_in_the_metrics_and_the_console_with_their_detail(
    start_service, start_console, tmp_path
):
    service = start_service(dead_letter="on", cors_origins=SHOP, api_keys=WRITE_KEY, workers="2")
    preflight = {"Origin": EVIL, "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type"}
    refused = requests.options(service.url + "/collect/event", headers=preflight, timeout=30)
    assert refused.status_code == 204 and "Access-Control-Allow-Origin" not in refused.headers
    body = {"messageBody": [{"eventType": "signup"}]}
    assert service.post(body, headers={"Authorization": f"Bearer {WRONG}"}).status_code == 401
    assert requests.post(f"{service.url}/collect/event?writeKey={WRONG}", json=body, timeout=30).status_code == 401

    wanted = {
        ("collector_cors_preflights_refused_total", (("origin", EVIL),)): 1.0,
        ("collector_rejected_requests_total", (("code", "cors_preflight_refused"),)): 1.0,
        ("collector_rejected_requests_total", (("code", "invalid_write_key"),)): 2.0,
    }
    wait_until(lambda: wanted.items() <= samples(service.url).items(), 30, "both refusals in /metrics")

    console = start_console(service.data_dir, service.url + "/metrics")
    answer = requests.get(console + "/api/rejections", timeout=30).json()
    by_code = {}
    for letter in answer["letters"]:
        by_code.setdefault(letter["code"], []).append(letter)
    [kept_preflight] = by_code["cors_preflight_refused"]
    assert kept_preflight["preflight"] == {"origin": EVIL, "method": "POST", "headers": "content-type"}
    assert kept_preflight["client"]["ip"] == "127.0.0.1" and kept_preflight["status"] == 204
    assert [letter["triedKeyId"] for letter in by_code["invalid_write_key"]] == [key_id(WRONG)] * 2
    opened = requests.get(f"{console}/api/deadletters/{by_code['invalid_write_key'][0]['id']}", timeout=30).json()
    assert opened["letter"]["body"] is None and opened["replay"]["allowed"] is False

    # The key tried is nowhere: not in a letter, a log, or an answer of the console.
    texts = [path.read_bytes() for path in (service.data_dir / deadletters.DIRECTORY).iterdir() if path.is_file()]
    texts += [service.log().encode(), *(path.read_bytes() for path in Path(tmp_path).glob("console*.log"))]
    texts += [requests.get(console + path, timeout=30).content for path in ("/api/rejections", "/api/overview")]
    texts.append(requests.get(f"{console}/api/deadletters/{opened['letter']['id']}", timeout=30).content)
    assert not [text[:200] for text in texts if WRONG.encode() in text or WRITE_KEY.encode() in text]
    assert re.search(rb"invalid_write_key", b"".join(texts)), "the 401s are there, by their code"
