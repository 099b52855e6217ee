"""clients/python/src/collector_client/transport.py: the URL it posts to, and failures as answers, not exceptions."""

from __future__ import annotations

import socket

import pytest

from collector_client.transport import Transport, _code_of


@pytest.mark.parametrize(
    ("url", "path"),
    [("http://127.0.0.1:8000", "/collect/event"), ("https://example.com/events/", "/events/collect/event")],
)
def test_events_go_to_collect_event_under_the_base_url(url, path):
    assert Transport(url, 1, "ua").path == path


@pytest.mark.parametrize("url", ["127.0.0.1:8000", "ftp://example.com", "http://"])
def test_a_url_it_cannot_post_to_is_refused_at_once(url):
    with pytest.raises(ValueError):
        Transport(url, 1, "ua")


def test_a_refused_connection_is_an_answer_without_a_status():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: connections are refused
        answer = Transport(f"http://127.0.0.1:{port}", 5, "ua").post(b"{}", {})
    assert answer.status is None and "ConnectionRefusedError" in answer.detail


@pytest.mark.parametrize(
    ("content", "code"),
    [(b'{"code": "rate_limited", "statusCode": 429}', "rate_limited"), (b"<html>502</html>", None), (b"[1]", None)],
)
def test_the_collectors_code_is_read_from_its_json_body_only(content, code):
    assert _code_of(content) == code
