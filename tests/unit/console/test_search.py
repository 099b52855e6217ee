"""The console's search: terms on any stored field, ANDed, compared as the text of the stored JSON value."""

from __future__ import annotations

import orjson
import pytest

from collector.console.index import Event
from collector.console.search import MAX_TERMS, Search, parse
from collector.errors import CollectorError


def event(received: float = 100.0, client_name: str = "Firefox", **fields) -> Event:
    stored = {"eventType": "signup", "eventId": "e-1", "pingId": "p-1", "receivedAt": "2026-11-30T00:00:00Z", **fields}
    return Event(
        received=received, line=orjson.dumps(stored) + b"\n", event_type=str(stored["eventType"]),
        event_id=str(stored["eventId"]), ping_id=str(stored["pingId"]), client="", client_name=client_name,
    )


SIGNUP = event(userId="u1", properties={"plan": "pro", "seats": 3, "trial": False, "ratio": 0.5, "tags": ["a"]},
               context={"page": {"path": "/x"}})


@pytest.mark.parametrize(
    "query",
    ["userId = u1", "userId=u1", "properties.plan = pro", "context.page.path = /x", "eventType = signup",
     "client = Firefox", "client = firefox", "user = u1", "properties.seats = 3", "properties.trial = false",
     "properties.ratio = 0.5", 'properties.tags = ["a"]', "e-1", "p-1", 'properties.plan = "pro"',
     "eventType = signup  properties.plan = pro userId = u1"],
)
def test_a_term_matches_the_text_of_the_stored_value(query):
    assert parse(query).matches(SIGNUP)


@pytest.mark.parametrize(
    "query",
    ["userId = u2", "properties.plan = Pro", "properties.plan = pr", "properties.missing = pro",
     "context.page = /x", "client = Chrome", "eventType = signup properties.plan = free", "e-2",
     "properties.seats = 3.0", "properties.trial = False", "anonymousId = u1", "userId.x = u1"],
)
def test_a_term_that_differs_does_not_match(query):
    assert not parse(query).matches(SIGNUP)


def test_user_is_the_user_id_else_the_anonymous_id():
    anonymous = event(anonymousId="a-9")
    assert parse("user = a-9").matches(anonymous)
    assert not parse("user = a-9").matches(event(userId="u1", anonymousId="a-9"))


def test_a_quoted_value_holds_spaces_equals_and_quotes():
    named = event(properties={"name": 'Ann "A" Lee = x', "note": "a\\b"})
    assert parse(r'properties.name = "Ann \"A\" Lee = x"').matches(named)
    assert parse(r'properties.note = "a\\b"').matches(named)
    assert not parse('properties.name = "Ann"').matches(named)


def test_non_ascii_and_escaped_values_match_whatever_the_line_holds():
    line = b'{"eventType":"v","eventId":"e","pingId":"p","properties":{"city":"K\\u00f6ln","q":"a\\"b"}}\n'
    escaped = Event(received=1.0, line=line, event_type="v", event_id="e", ping_id="p", client="", client_name="")
    assert parse("properties.city = Köln").matches(escaped)
    assert parse(r'properties.q = "a\"b"').matches(escaped)


def test_integers_beyond_64_bits_compare_exactly():
    line = b'{"eventType":"v","eventId":"e","pingId":"p","properties":{"id":123456789012345678901234567890}}\n'
    big = Event(received=1.0, line=line, event_type="v", event_id="e", ping_id="p", client="", client_name="")
    assert parse("properties.id = 123456789012345678901234567890").matches(big)
    assert not parse("properties.id = 123456789012345678901234567891").matches(big)


def test_the_time_range_is_of_received_at_from_included_to_excluded():
    assert Search((), since=100.0, until=101.0).matches(event(received=100.0))
    assert not Search((), since=100.0, until=101.0).matches(event(received=101.0))
    assert not Search((), since=100.5).matches(event(received=100.0))


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("= pro", "`=` needs a field before it"),
        ("properties.plan =", "needs a value after it"),
        ("properties.plan = = pro", "needs a value after it"),
        ('properties.plan = "pro', "closing"),
        ("properties..plan = pro", "empty name"),
        (".plan = pro", "empty name"),
        ('"properties.plan" = pro', "field"),
        (" ".join(f"userId = u{n}" for n in range(MAX_TERMS + 1)), f"at most {MAX_TERMS} terms"),
    ],
)
def test_bad_syntax_is_an_invalid_query_saying_what_to_write(query, says):
    with pytest.raises(CollectorError) as raised:
        parse(query)
    assert raised.value.code == "invalid_query"
    assert says in raised.value.message
    assert "q:" in raised.value.message
