"""Whatever path or method a client tries, the answer is the contract's JSON, never an HTML page."""

from __future__ import annotations

import pytest

from collector import service
from collector.errors import CODES
from tests.servers import read_events

EVENT = b'{"messageBody": [{"eventType": "a"}]}'

ODD_REQUESTS = [
    ("POST", "/collect//event", 404),  # werkzeug's merge_slashes answered an HTML 308
    ("POST", "//collect/event", 404),
    ("POST", "/collect/event/", 404),
    ("GET", "/collect//event", 404),
    ("GET", "/healthz//", 404),
    ("GET", "//readyz", 404),
    ("GET", "/static/app.js", 404),
    ("GET", "/collect/event", 405),
    ("DELETE", "/healthz", 405),
    ("POST", "/metrics", 405),
]


@pytest.mark.parametrize("method, path, status", ODD_REQUESTS)
def test_odd_paths_and_methods_get_json_errors_and_store_nothing(app, method, path, status):
    # PATH_INFO as gunicorn passes it: the test client would read `//x` as a host.
    answer = app.test_client().open(
        "/", method=method, data=EVENT, content_type="application/json", environ_overrides={"PATH_INFO": path}
    )
    assert answer.status_code == status
    assert answer.mimetype == "application/json"
    body = answer.get_json()
    assert body["statusCode"] == status and CODES[body["code"]].status == status
    assert read_events(service.of(app).settings.data_dir) == []


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics", "/openapi.json", "/collect/event"])
def test_an_options_request_gets_the_allowed_methods_and_no_html_type(app, path):
    answer = app.test_client().options(path)
    assert answer.status_code == 200 and answer.get_data() == b""
    assert "OPTIONS" in answer.headers["Allow"]
    assert "Content-Type" not in answer.headers
