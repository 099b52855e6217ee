"""collector/idempotency/guard.py in the app, over the real SQLite state in the data directory.

Through the test client where a request shows it (a retry, a reused key, a
failed store, write keys, dedupe), and through the guard's public methods in
a request context of the app where only they can (a claim held by a request
still running, a claim left by a request that ends without storing).
"""

from __future__ import annotations

import threading

import flask
import pytest
from prometheus_client import REGISTRY

from collector import service
from collector.idempotency import HEADER
from collector.ingest.keys import key_id
from tests.app.helpers import post, stored

TENANT_A = "tenant-a-0123456789abcdef"
TENANT_B = "tenant-b-0123456789abcdef"


def body(*event_ids: str) -> dict:
    return {"messageBody": [{"eventType": "order", "eventId": event_id} for event_id in event_ids]}


def keyed(key: str, write_key: str | None = None) -> dict:
    headers = {HEADER: key}
    if write_key is not None:
        headers["X-Collector-Key"] = write_key
    return headers


def sample(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


def error_code(response) -> str:
    return response.get_json()["code"]


def claim_in_a_request(app, key: str, payload: dict):
    """A request context of the app whose request claims `key` (what the view does before storing)."""
    context = app.test_request_context("/collect/event", method="POST", headers={HEADER: key})
    context.push()
    return context, service.of(app).idempotency.replay_or_claim(flask.request, payload)


def in_another_thread(request):
    """`request()` as a concurrent request runs: in a thread of its own, so with its own app context.

    In this thread it would share the claiming request's app context, and so
    its `flask.g`, as no two real requests do.
    """
    answers = []
    thread = threading.Thread(target=lambda: answers.append(request()))
    thread.start()
    thread.join(60)
    return answers[0]


def test_a_request_without_the_header_claims_nothing(app):
    with app.test_request_context("/collect/event", method="POST"):
        assert service.of(app).idempotency.replay_or_claim(flask.request, body("e-1")) is None
    assert post(app.test_client(), body("e-1"), headers=keyed("k-0")).status_code == 201


def test_a_claimed_key_holds_off_a_copy_with_409_until_its_request_completes(app):
    context, found = claim_in_a_request(app, "k-1", body("e-1"))
    try:
        assert found is None  # claimed: this request may store
        copy = in_another_thread(lambda: post(app.test_client(), body("e-1"), headers=keyed("k-1")))
        assert (copy.status_code, error_code(copy)) == (409, "idempotency_key_in_flight")
        assert copy.headers.get("Retry-After")
        service.of(app).idempotency.completed(flask.Response(b'{"stored": "once"}', status=201))
    finally:
        context.pop()
    retry = post(app.test_client(), body("e-1"), headers=keyed("k-1"))
    assert (retry.status_code, retry.data) == (201, b'{"stored": "once"}')
    assert stored(app) == []  # the claiming request stood in for the store here: nothing else stored


def test_a_retry_gets_the_very_same_201_and_stores_nothing_again(app):
    client = app.test_client()
    replays = sample("collector_idempotent_replays_total")
    first = post(client, body("e-1", "e-2"), headers=keyed("k-2"))
    retry = post(client, body("e-1", "e-2"), headers=keyed("k-2"))
    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.data == first.data  # the original pingId
    assert sample("collector_idempotent_replays_total") - replays == 1
    assert [event["eventId"] for event in stored(app)] == ["e-1", "e-2"]


def test_the_same_key_with_another_body_is_422_and_stores_nothing(app):
    client = app.test_client()
    assert post(client, body("e-1"), headers=keyed("k-3")).status_code == 201
    reused = post(client, body("e-2"), headers=keyed("k-3"))
    assert (reused.status_code, error_code(reused)) == (422, "idempotency_key_reused")
    assert [event["eventId"] for event in stored(app)] == ["e-1"]


def test_a_malformed_key_is_400(app):
    refused = post(app.test_client(), body("e-1"), headers=keyed("not visible ascii"))
    assert (refused.status_code, error_code(refused)) == (400, "invalid_idempotency_key")


def test_a_claim_whose_request_ends_without_storing_gives_its_key_back(app):
    context, found = claim_in_a_request(app, "k-4", body("e-1"))
    assert found is None
    context.pop()  # the request ends (an error, a crash of the view) without `completed`
    again, found_again = claim_in_a_request(app, "k-4", body("e-1"))
    assert found_again is None  # claimed afresh, not a 409 for a copy that is gone
    again.pop()


def test_a_request_that_fails_to_store_lets_its_retry_store_it(app):
    client = app.test_client()
    service.of(app).writer.broken = True  # the store refuses: 503 after the key was claimed
    failed = post(client, body("e-1"), headers=keyed("k-5"))
    assert (failed.status_code, error_code(failed)) == (503, "storage_unavailable")
    service.of(app).writer.broken = False
    retry = post(client, body("e-1"), headers=keyed("k-5"))
    assert retry.status_code == 201
    assert [event["eventId"] for event in stored(app)] == ["e-1"]


def test_a_key_belongs_to_the_write_key_that_sent_it(make_app):
    app = make_app(api_keys=f"{TENANT_A},{TENANT_B}")
    client = app.test_client()
    first = post(client, body("a-1"), headers=keyed("order-1", TENANT_A))
    # Another body under A's key is B's own request: stored, not a 422, and B learns nothing of A's.
    other = post(client, body("b-1"), headers=keyed("order-1", TENANT_B))
    assert (first.status_code, other.status_code) == (201, 201)
    assert other.data != first.data
    retry = post(client, body("a-1"), headers=keyed("order-1", TENANT_A))
    assert (retry.status_code, retry.data) == (201, first.data)
    found = sorted((event["client"]["keyId"], event["eventId"]) for event in stored(app))
    assert found == sorted([(key_id(TENANT_A), "a-1"), (key_id(TENANT_B), "b-1")])


def test_per_event_dedupe_drops_only_events_the_same_write_key_stored(make_app):
    app = make_app(api_keys=f"{TENANT_A},{TENANT_B}", dedupe="event")
    client = app.test_client()
    duplicates = sample("collector_duplicate_events_total")
    assert post(client, body("e-1", "e-2"), headers={"X-Collector-Key": TENANT_A}).status_code == 201
    again = post(client, body("e-2", "e-3"), headers={"X-Collector-Key": TENANT_A})
    assert again.status_code == 201  # the request is answered as stored; its known event is not stored twice
    assert post(client, body("e-2"), headers={"X-Collector-Key": TENANT_B}).status_code == 201
    assert sample("collector_duplicate_events_total") - duplicates == 1
    found = sorted((event["client"]["keyId"], event["eventId"]) for event in stored(app))
    assert found == sorted([(key_id(TENANT_A), "e-1"), (key_id(TENANT_A), "e-2"),
                            (key_id(TENANT_A), "e-3"), (key_id(TENANT_B), "e-2")])


@pytest.mark.parametrize("dedupe", ["off", "event"])
def test_without_per_event_dedupe_every_copy_of_an_event_is_stored(make_app, dedupe):
    app = make_app(dedupe=dedupe)
    client = app.test_client()
    assert post(client, body("e-1")).status_code == 201
    assert post(client, body("e-1")).status_code == 201
    expected = ["e-1", "e-1"] if dedupe == "off" else ["e-1"]
    assert [event["eventId"] for event in stored(app)] == expected
