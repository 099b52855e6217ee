"""Rejected requests per code over the last hour, from samples of the collector's counters."""

from __future__ import annotations

import http.server
import threading

import pytest

from collector import cli
from collector.console.rejections import Rejections, metrics_url, rejected_by_code
from tests.processes import ROOT

METRICS = """# HELP collector_rejected_requests_total x
# TYPE collector_rejected_requests_total counter
collector_rejected_requests_total{code="invalid_json"} %s
collector_rejected_requests_total{code="rate_limited"} %s
collector_requests_total{path="/collect/event",status="201"} 7.0
"""


class Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def metrics_server():
    """A stand-in /metrics whose counters the test sets."""
    values = {"text": METRICS % (0, 0)}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = values["text"].encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield values, f"http://127.0.0.1:{server.server_address[1]}/metrics"
    server.shutdown()
    server.server_close()


def test_counts_are_differences_within_the_hour_and_a_restart_counts_from_zero(metrics_server):
    values, url = metrics_server
    clock = Clock()
    rejections = Rejections(url, clock=clock)
    for invalid, limited in ((0, 0), (3, 10), (5, 10), (2, 1)):  # the last: the collector restarted
        values["text"] = METRICS % (invalid, limited)
        rejections.sample()
        clock.now += 60
    assert rejections.last_hour() == {"invalid_json": 7, "rate_limited": 11}
    assert rejections.problem is None
    clock.now += 3600
    values["text"] = METRICS % (2, 1)
    rejections.sample()
    assert rejections.last_hour() == {}, "samples older than an hour are forgotten"


def test_a_collector_that_does_not_answer_is_said_not_counted():
    rejections = Rejections("http://127.0.0.1:9/metrics")
    rejections.sample()
    assert rejections.last_hour() == {}
    assert rejections.problem.startswith("the collector's metrics at http://127.0.0.1:9/metrics do not answer")


def test_a_metrics_url_without_a_host_is_said_not_counted():
    # --metrics-url is the operator's text: without a scheme it names no host (found by mypy).
    rejections = Rejections("localhost:8000/metrics")
    rejections.sample()
    assert rejections.last_hour() == {}
    assert rejections.problem == (
        "the collector's metrics at localhost:8000/metrics do not answer (it names no host: http://host:port/path)"
    )


def test_the_metrics_address_follows_the_collectors_bind():
    assert metrics_url("127.0.0.1:8000") == "http://127.0.0.1:8000/metrics"
    assert metrics_url("0.0.0.0:8000") == "http://127.0.0.1:8000/metrics"
    assert metrics_url("[::]:8000") == "http://[::1]:8000/metrics"
    assert metrics_url("unix:/run/collector.sock") == "unix:/run/collector.sock:/metrics"


def test_only_the_rejection_counter_is_read():
    assert rejected_by_code(METRICS % (4, 2)) == {"invalid_json": 4.0, "rate_limited": 2.0}


def test_the_console_calls_them_rejected_requests_on_its_page_in_its_help_and_in_its_docs(capsys):
    # One word for what collector_rejected_requests_total counts: never "refused" (a 429's word).
    page = (ROOT / "collector" / "console" / "static" / "index.html").read_text()
    assert "<h2>Rejected requests by code, last hour</h2>" in page
    docs = (ROOT / "docs" / "console.md").read_text()
    assert "- **Rejected requests** by code over the last hour" in docs
    for argv in (["--help"], ["console", "--help"]):
        with pytest.raises(SystemExit):
            cli.main(argv)
        help_text = " ".join(capsys.readouterr().out.split())
        assert "traffic and rejected requests" in help_text and "rejection" not in help_text


VIOLATIONS = METRICS + """# HELP collector_plan_violations_total x
# TYPE collector_plan_violations_total counter
collector_plan_violations_total{event_type="purchase",path="/properties/total"} %s
collector_plan_violations_total{event_type="other",path="/eventType"} %s
"""


def test_plan_violations_by_type_and_path_are_sampled_with_the_rejections(metrics_server):
    values, url = metrics_server
    clock = Clock()
    rejections = Rejections(url, clock=clock)
    for invalid, total, other in ((0, 0, 0), (1, 4, 1), (1, 9, 1)):
        values["text"] = VIOLATIONS % (invalid, 0, total, other)
        rejections.sample()
        clock.now += 60
    assert rejections.last_hour() == {"invalid_json": 1}
    assert rejections.plan_violations_last_hour() == [["purchase", "/properties/total", 9], ["other", "/eventType", 1]]


def test_without_a_plan_there_are_no_plan_violations(metrics_server):
    _, url = metrics_server
    rejections = Rejections(url, clock=Clock())
    rejections.sample()
    rejections.sample()
    assert rejections.plan_violations_last_hour() == []


def test_the_page_shows_plan_violations_next_to_the_rejected_requests():
    page = (ROOT / "collector" / "console" / "static" / "index.html").read_text()
    rejected = page.index("<h2>Rejected requests by code, last hour</h2>")
    violations = page.index("<h2>Plan violations by type and path, last hour</h2>")
    assert rejected < violations < page.index("<h2>Latest dead letters</h2>")
    assert '<table id="plan-violations">' in page
    assert 'fillTable("#plan-violations", overview.planViolations.lastHour)' in (
        ROOT / "collector" / "console" / "static" / "console.js"
    ).read_text()
