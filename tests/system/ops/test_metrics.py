"""GET /metrics of the real service: two gunicorn workers, limits in memcached, every family adds up.

Known traffic goes to both workers (a new connection per request); every
scrape, whichever worker answers it, must show exactly what was sent, summed
over the workers, and nothing may go backwards when a worker stops or is
killed. Clients are told apart by X-Forwarded-For (COLLECTOR_TRUSTED_PROXIES=1):
each ordinary request comes from an address of its own, so that only the one
client meant to hit its limit does.
"""

from __future__ import annotations

import itertools
import os
import re
import signal
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from collector.store import datafiles
from tests.servers import wait_until

pytestmark = pytest.mark.system

LIMIT = 5
LIMITED_CLIENT = {"X-Forwarded-For": "203.0.113.99"}
MAX_BODY_BYTES = 4096
_addresses = (f"10.0.{n // 250}.{n % 250 + 1}" for n in itertools.count())


def fresh_client() -> dict[str, str]:
    return {"X-Forwarded-For": next(_addresses)}


def one_event(event_type: str) -> dict:
    return {"messageBody": [{"eventType": event_type}]}


def scrape(service) -> dict[tuple[str, frozenset], float]:
    """Every sample of one scrape (a new connection: either worker may answer)."""
    response = requests.get(service.url + "/metrics", timeout=10)
    assert response.status_code == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def family(samples, name: str, label: str, *, where: dict[str, str] | None = None) -> dict[str, float]:
    """{label value: sample value} of one family's non-zero samples (restricted to `where`)."""
    found = {}
    for (sample_name, labels), sample_value in samples.items():
        labels = dict(labels)
        if sample_name == name and sample_value and all(labels.get(k) == v for k, v in (where or {}).items()):
            found[labels[label]] = sample_value
    return found


def workers_with_files(service) -> set[int]:
    names = " ".join(path.name for path in service.data_dir.iterdir())
    return {int(pid) for pid in re.findall(r"-(\d+)-\d{6}\.jsonl", names)}


def data_bytes(service) -> int:
    return sum(path.stat().st_size for path in datafiles.data_files(service.data_dir))


class Traffic:
    """What was sent, and what each family should therefore show."""

    def __init__(self, service) -> None:
        self.service = service
        self.events: dict[str, int] = {}
        self.statuses: dict[str, int] = {}
        self.codes: dict[str, int] = {}

    def send(self, body, expected_status: int, code: str | None = None, events=(), headers=None, **kwargs) -> None:
        response = self.service.post(body, headers=headers or fresh_client(), **kwargs)
        assert response.status_code == expected_status, response.text
        if code is not None:
            assert response.json()["code"] == code
            self.codes[code] = self.codes.get(code, 0) + 1
        self.statuses[str(expected_status)] = self.statuses.get(str(expected_status), 0) + 1
        for event_type in events:
            self.events[event_type] = self.events.get(event_type, 0) + 1

    def send_all(self, sends) -> None:
        with ThreadPoolExecutor(8) as pool:
            for future in [pool.submit(self.send, *args, **kwargs) for args, kwargs in sends]:
                future.result()


def known_traffic(traffic: Traffic) -> None:
    sends = [((one_event("sys_view"), 201), {"events": ["sys_view"]})] * 12
    sends += [((one_event("sys_buy"), 201), {"events": ["sys_buy"]})] * 8
    mixed = ["sys_view", "sys_buy", "sys_view", "sys_buy", "sys_view"]
    sends += [(({"messageBody": [{"eventType": t} for t in mixed]}, 201), {"events": mixed})]
    sends += [((b"{not json", 400, "invalid_json"), {})] * 3
    sends += [((one_event(""), 400, "invalid_event_type"), {})] * 2
    sends += [
        (
            (b'{"messageBody": []}', 415, "unsupported_media_type"),
            {"headers": {**fresh_client(), "Content-Type": "application/xml"}},
        )
    ]
    too_big = {"messageBody": [{"eventType": "sys_big", "properties": {"pad": "x" * MAX_BODY_BYTES}}]}
    sends += [((too_big, 413, "body_too_large"), {})]
    traffic.send_all(sends)
    # One client past its limit: the first 429 is flask-limiter's, a worker that
    # refused it before replays it.
    for _ in range(LIMIT):
        traffic.send(one_event("sys_limited"), 201, events=["sys_limited"], headers=LIMITED_CLIENT)
    for _ in range(3):
        traffic.send(one_event("sys_limited"), 429, "rate_limited", headers=LIMITED_CLIENT)


def assert_adds_up(samples, traffic: Traffic, service) -> None:
    assert family(samples, "collector_events_accepted_total", "event_type") == traffic.events
    assert family(samples, "collector_requests_total", "status", where={"path": "/collect/event"}) == traffic.statuses
    assert family(samples, "collector_rejected_requests_total", "code") == traffic.codes
    limited = family(samples, "collector_rate_limited_requests_total", "replayed")
    assert sum(limited.values()) == traffic.codes["rate_limited"]
    assert limited.get("false", 0) >= 1, "the first refusal is flask-limiter's"
    timed = sum(traffic.statuses.values())
    assert value(samples, "collector_request_duration_seconds_count", path="/collect/event") == timed
    assert value(samples, "collector_request_duration_seconds_bucket", path="/collect/event", le="+Inf") == timed
    assert value(samples, "collector_bytes_written_total") == data_bytes(service)
    assert value(samples, "collector_workers") == 2


def replaced(service, gone: int, started: int) -> None:
    """Wait until worker `gone` is replaced and `started` workers in all have loaded the app."""
    wait_until(lambda: gone not in service.worker_pids() and len(service.worker_pids()) == 2, 30, "a new worker")
    wait_until(lambda: service.log().count("collector configured") >= started, 30, "the new worker to load the app")


def test_every_family_adds_up_over_two_workers_and_survives_their_deaths(start_service, memcached):
    service = start_service(
        rate_limit=f"{LIMIT} per hour",
        rate_limit_storage=memcached.uri,
        workers="2",
        trusted_proxies="1",
        max_body_bytes=str(MAX_BODY_BYTES),
    )
    service.wait_for_workers(2)
    traffic = Traffic(service)
    known_traffic(traffic)
    # Both workers must have served for the sums to mean anything: more of the
    # same until they have (each sent request is accounted for).
    wait_until(
        lambda: len(workers_with_files(service)) == 2
        or traffic.send_all([((one_event("sys_view"), 201), {"events": ["sys_view"]})] * 4),
        30,
        "both workers to store events",
    )
    scrapes = [scrape(service) for _ in range(6)]
    for samples in scrapes:
        assert_adds_up(samples, traffic, service)

    # A worker stopped gracefully finishes its file; one killed leaves it to
    # its replacement. Neither takes its counts along.
    stopped, killed = sorted(workers_with_files(service))
    os.kill(stopped, signal.SIGTERM)
    replaced(service, stopped, started=3)
    os.kill(killed, signal.SIGKILL)
    replaced(service, killed, started=4)

    def recovered(samples):
        return value(samples, "collector_files_finished_total", reason="recovered")

    # Whichever new worker starts after the kill finishes the killed one's file.
    wait_until(lambda: recovered(scrape(service)) == 1, 30, "the killed worker's file to be recovered")
    for _ in range(6):
        samples = scrape(service)
        assert_adds_up(samples, traffic, service)  # collector_workers is 2 again: the dead are not counted
        assert value(samples, "collector_files_finished_total", reason="stopped") == 1
        assert recovered(samples) == 1
        assert value(samples, "collector_files_finished_total", reason="rotated") == 0
    assert all(path.name.endswith(".jsonl") for path in datafiles.data_files(service.data_dir))


def test_a_started_service_counts_every_worker_it_was_given(start_service):
    # start_service returns once every worker has loaded the app, so that a
    # test's first scrape, like its first burst, meets them all: counts that
    # depend on how far gunicorn got spawning them (one by one, with random
    # pauses) flake on a loaded machine.
    service = start_service(workers="3")
    assert len(service.worker_pids()) == 3
    assert value(scrape(service), "collector_workers") == 3


@pytest.mark.parametrize("stop", ["gracefully", "kill -9"])
def test_an_operators_metrics_directory_is_emptied_at_each_start(start_service, tmp_path, stop):
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    # Two workers named, not `auto`: the count below must not depend on the
    # machine's cores.
    service = start_service(workers="2", extra_env={"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)})
    assert service.post(one_event("sys_before_restart")).status_code == 201
    assert value(scrape(service), "collector_events_accepted_total", event_type="sys_before_restart") == 1
    assert value(scrape(service), "collector_workers") == 2
    if stop == "gracefully":
        service.stop()  # the master marks its workers dead: their live gauges go
    else:
        service.kill_all()  # nobody does: the dead workers' gauges stay
    assert list(metrics_dir.glob("*.db")), "the stopped run's counts are still there"
    service.start()
    samples = scrape(service)
    assert value(samples, "collector_events_accepted_total", event_type="sys_before_restart") == 0
    assert value(samples, "collector_workers") == 2, "the stopped run's workers are not counted"
    assert metrics_dir.is_dir(), "the operator's directory is kept"
