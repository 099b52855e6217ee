from __future__ import annotations

import orjson

from collector.erasure.keyed import hash_id
from collector.erasure.matching import Ids, Matcher
from collector.erasure.transform import LineTransform, anonymised
from tests.unit.erasure.helpers import GONE, event


def test_forgetting_drops_the_persons_lines_and_notes_their_event_and_ping_ids():
    transform = LineTransform(Matcher(Ids.of(user=[GONE])))
    assert transform.line(event(1)) == event(1)
    assert transform.line(event(2, GONE)) is None
    keyed = event(3, GONE, client={"ip": None, "keyId": "0a1b2c3d"})
    assert transform.line(keyed) is None
    assert transform.event_ids == {"e-2", "0a1b2c3d e-3"}  # as the idempotency state scopes them
    assert transform.ping_ids == {"00000000-0000-4000-8000-000000000002", "00000000-0000-4000-8000-000000000003"}


def test_anonymising_replaces_only_the_given_ids_and_the_address():
    key = b"k" * 32
    transform = LineTransform(Matcher(Ids.of(user=[GONE])), key)
    changed = orjson.loads(transform.line(event(2, GONE, anonymousId="a-1")))
    assert changed["userId"] == hash_id(key, GONE)
    assert changed["anonymousId"] == "a-1"  # not given: not changed (give every id of the person)
    assert changed["client"] == {"ip": None, "userAgent": "t"}
    assert changed["eventType"] == "view" and changed["receivedAt"] == "2026-11-26T05:00:02.000Z"


def test_anonymised_leaves_the_event_it_was_given_alone():
    original = {"userId": GONE, "client": {"ip": "203.0.113.7"}}
    anonymised(original, ["userId"], b"k" * 32)
    assert original == {"userId": GONE, "client": {"ip": "203.0.113.7"}}
