"""The outage policy of the rate-limit storage: open or closed, counted, logged once per outage."""

from __future__ import annotations

import logging
import threading

import pytest
from prometheus_client import REGISTRY

from collector.errors import CollectorError
from collector.ratelimit.outage import StorageOutage

URI = "memcached://127.0.0.1:11211"
REFUSED = ConnectionRefusedError(111, "Connection refused")


def unchecked(outcome: str) -> float:
    """collector_rate_limit_unchecked_requests_total{outcome} so far, in this process."""
    value = REGISTRY.get_sample_value("collector_rate_limit_unchecked_requests_total", {"outcome": outcome})
    return value or 0.0


@pytest.fixture
def outage_log(caplog, monkeypatch):
    """caplog for the outage module's lines.

    The service's logging config (ops/logs.py) stops `collector` lines at its
    own handler, so caplog's handler, on the root logger, would not see them.
    """
    logger = logging.getLogger("collector.ratelimit.outage")
    monkeypatch.setattr(logger, "propagate", False)
    logger.addHandler(caplog.handler)
    yield caplog
    logger.removeHandler(caplog.handler)


def lines(caplog) -> list[tuple[int, str]]:
    return [(record.levelno, record.getMessage()) for record in caplog.records]


def test_open_policy_admits_with_the_fallback_and_marks_the_request_unchecked():
    outage = StorageOutage(URI, "open")
    outage.begin_request()
    assert outage.check_failed(REFUSED, admitted=0) == 0
    assert outage.check_failed(REFUSED, admitted=True) is True
    assert outage.request_unchecked()


def test_open_policy_counts_a_request_admitted_once_even_when_two_checks_fail():
    outage = StorageOutage(URI, "open")
    before = unchecked("admitted")
    outage.begin_request()
    outage.check_failed(REFUSED, admitted=0)
    outage.check_failed(TimeoutError("timed out"), admitted=0)
    assert unchecked("admitted") == before + 1
    outage.begin_request()
    outage.check_failed(REFUSED, admitted=0)
    assert unchecked("admitted") == before + 2


def test_closed_policy_refuses_with_503_code():
    outage = StorageOutage(URI, "closed")
    before_refused, before_admitted = unchecked("refused"), unchecked("admitted")
    outage.begin_request()
    with pytest.raises(CollectorError) as caught:
        outage.check_failed(REFUSED, admitted=0)
    error = caught.value
    assert (error.code, error.status) == ("limit_storage_unavailable", 503)
    assert error.message == "rate limits cannot be checked now; nothing was kept, resend later"
    assert error.kind.retry_after == 5
    assert outage.request_unchecked()
    assert unchecked("refused") == before_refused + 1
    assert unchecked("admitted") == before_admitted


def test_begin_request_forgets_the_previous_requests_failure():
    outage = StorageOutage(URI, "open")
    assert not outage.request_unchecked()
    outage.check_failed(REFUSED, admitted=0)
    assert outage.request_unchecked()
    outage.begin_request()
    assert not outage.request_unchecked()


def test_a_failure_marks_only_the_request_of_its_own_thread():
    outage = StorageOutage(URI, "open")
    outage.begin_request()
    seen_in_thread = []

    def other_request():
        outage.begin_request()
        outage.check_failed(REFUSED, admitted=0)
        seen_in_thread.append(outage.request_unchecked())

    thread = threading.Thread(target=other_request)
    thread.start()
    thread.join()
    assert seen_in_thread == [True]
    assert not outage.request_unchecked()


def test_an_outage_logs_one_warning_when_it_starts_and_one_line_when_it_ends(outage_log):
    outage = StorageOutage(URI, "open")
    for _ in range(3):
        outage.begin_request()
        outage.check_failed(REFUSED, admitted=0)
    outage.record(TimeoutError("timed out"))
    outage.recovered()
    outage.recovered()
    assert lines(outage_log) == [
        (
            logging.WARNING,
            f"rate-limit storage {URI} failed (ConnectionRefusedError: [Errno 111] Connection refused); "
            "admitting requests unlimited until it answers again",
        ),
        (logging.WARNING, f"rate-limit storage {URI} answers again; limits apply again"),
    ]


def test_the_warning_of_the_closed_policy_says_requests_are_refused(outage_log):
    outage = StorageOutage(URI, "closed")
    outage.record(TimeoutError("timed out"))
    assert lines(outage_log) == [
        (
            logging.WARNING,
            f"rate-limit storage {URI} failed (TimeoutError: timed out); "
            "refusing requests with 503 until it answers again",
        )
    ]


def test_a_new_outage_after_a_recovery_is_logged_again(outage_log):
    outage = StorageOutage(URI, "open")
    outage.record(REFUSED)
    outage.recovered()
    outage.record(REFUSED)
    assert [message.split(";")[0] for _, message in lines(outage_log)] == [
        f"rate-limit storage {URI} failed (ConnectionRefusedError: [Errno 111] Connection refused)",
        f"rate-limit storage {URI} answers again",
        f"rate-limit storage {URI} failed (ConnectionRefusedError: [Errno 111] Connection refused)",
    ]


def test_storage_that_never_failed_logs_nothing_on_success(outage_log):
    outage = StorageOutage(URI, "open")
    outage.recovered()
    assert outage_log.records == []


def test_every_failed_call_to_the_storage_is_counted():
    outage = StorageOutage(URI, "open")
    before = REGISTRY.get_sample_value("collector_rate_limit_storage_errors_total") or 0.0
    outage.begin_request()
    outage.check_failed(REFUSED, admitted=0)
    outage.record(TimeoutError("timed out"))  # a header read, after the check
    assert REGISTRY.get_sample_value("collector_rate_limit_storage_errors_total") - before == 2
