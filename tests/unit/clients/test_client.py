"""clients/python/src/collector_client/client.py with a scripted transport: no network, no real sleeps."""

from __future__ import annotations

import json

import pytest

from collector_client import Client
from collector_client.transport import Answer


class Scripted:
    """Answers from a script, recording every request."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.requests: list[tuple[bytes, dict]] = []

    def post(self, body, headers):
        self.requests.append((body, headers))
        return self.answers.pop(0) if self.answers else Answer(201)

    def close(self):
        pass


@pytest.fixture
def make_client():
    clients = []

    def make(*answers: Answer, **options):
        waits = []
        client = Client("http://collector.invalid", at_exit=False, sleep=waits.append, flush_interval=3600, **options)
        client.transport = Scripted(*answers)
        clients.append(client)
        return client, client.transport, waits

    yield make
    for client in clients:
        client.close(timeout=10)


def test_a_retried_batch_is_resent_byte_identical_with_the_same_idempotency_key(make_client):
    client, transport, waits = make_client(
        Answer(None, detail="ConnectionResetError"),
        Answer(503, "storage_unavailable", 5.0),
        Answer(429, "rate_limited", 2.0),
        Answer(409, "idempotency_key_in_flight", 1.0),
        write_key="k" * 20,
    )
    client.track("a", {"n": 1})
    client.track("b")
    assert client.flush(timeout=30)
    assert len(transport.requests) == 5
    assert len({body for body, _ in transport.requests}) == 1
    assert len({headers["Idempotency-Key"] for _, headers in transport.requests}) == 1
    assert transport.requests[0][1]["X-Collector-Key"] == "k" * 20
    assert waits[1:] == [5.0, 2.0, 1.0]  # Retry-After as sent; the first, a backoff
    assert client.stats == {"sent": 2, "batches": 1, "retries": 4, "refused": 0, "gave_up": 0}


def test_each_batch_has_its_own_key_and_the_contracts_body(make_client):
    client, transport, _ = make_client(batch_size=2, header={"app": "billing"})
    ids = [client.track("paid", {"n": n}, userId="u-1") for n in range(3)]
    assert client.flush(timeout=30)
    bodies = [json.loads(body) for body, _ in transport.requests]
    assert [[event["eventId"] for event in body["messageBody"]] for body in bodies] == [ids[:2], ids[2:]]
    assert all(body["messageheader"] == {"app": "billing"} for body in bodies)
    assert bodies[0]["messageBody"][0]["userId"] == "u-1"
    assert bodies[0]["messageBody"][0]["timestamp"].endswith("Z")
    assert len({headers["Idempotency-Key"] for _, headers in transport.requests}) == 2


def test_a_final_refusal_drops_that_batch_only_counted_and_logged(make_client, caplog):
    client, transport, waits = make_client(Answer(400, "invalid_event_type", detail="..."), batch_size=1)
    client.track("bad type")
    client.track("good")
    assert client.flush(timeout=30)
    assert waits == [] and len(transport.requests) == 2
    assert client.stats["refused"] == 1 and client.stats["sent"] == 1
    assert "dropped a batch of 1 events, refused for good: 400 invalid_event_type" in caplog.text


def test_a_batch_is_given_up_after_max_attempts(make_client):
    client, transport, waits = make_client(*[Answer(503, "storage_unavailable", 1.0)] * 3, max_attempts=3)
    client.track("a")
    assert client.flush(timeout=30)
    assert len(transport.requests) == 3 and waits == [1.0, 1.0]
    assert client.stats["gave_up"] == 1


def test_an_event_that_cannot_be_json_or_is_too_big_is_refused_at_the_call(make_client):
    client, _, _ = make_client(batch_bytes=1000)
    with pytest.raises(ValueError):
        client.track("a", {"x": float("nan")})
    with pytest.raises(TypeError):
        client.track("a", {"x": {1, 2}})
    with pytest.raises(ValueError):
        client.track("a", {"x": "y" * 1000})
