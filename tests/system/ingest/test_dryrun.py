"""Dry runs against the real service under gunicorn: checked like a real call, counted, stored nowhere."""

from __future__ import annotations

import pytest
import requests

pytestmark = pytest.mark.system


def test_a_dry_run_answers_like_a_real_call_and_leaves_the_data_directory_empty(start_service):
    service = start_service(rate_limit="10 per minute")
    dry = service.post({"messageBody": [{"eventType": "a"}, {"eventType": "b"}]}, params={"validate": "1"})
    assert dry.status_code == 200
    assert dry.headers["Content-Type"] == "application/json"
    assert dry.json() == {"valid": True, "events": 2}
    assert dry.headers["X-RateLimit-Remaining"] == "9"

    bad = {"messageBody": [{"eventType": "a", "colour": "red"}]}
    dry_bad = service.post(bad, params={"validate": "1"})
    real_bad = service.post(bad)
    assert dry_bad.status_code == real_bad.status_code == 400
    assert dry_bad.content == real_bad.content
    assert dry_bad.headers["X-RateLimit-Remaining"] == "8"

    typo = requests.post(
        service.url + "/collect/event?validate=yes", json={"messageBody": [{"eventType": "a"}]}, timeout=30
    )
    assert typo.status_code == 400
    assert typo.json()["code"] == "invalid_query"
    assert service.events() == []


def test_a_dry_run_spelt_with_a_capital_stores_nothing(start_service):
    service = start_service()
    typo = requests.post(
        service.url + "/collect/event?Validate=1", json={"messageBody": [{"eventType": "a"}]}, timeout=30
    )
    assert (typo.status_code, typo.json()["code"]) == (400, "invalid_query")
    assert service.events() == []
