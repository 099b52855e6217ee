"""Checking events against a plan: every kind of violation at its pointer,
in a fixed order, bounded; valid events pass.
"""

from __future__ import annotations

import concurrent.futures
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collector.plan import MAX_VIOLATIONS, Violation, load_plan, plan_from_text

DATA = Path(__file__).parent / "data"
SHOP = load_plan(DATA / "shop.json")

GOOD = {
    "page_view": {"path": "/pricing", "referrer": None, "title": "Pricing"},
    "product_viewed": {"sku": "A-1", "price": 19.99, "currency": "EUR"},
    "add_to_cart": {"sku": "A-1", "quantity": 2},
    "purchase": {
        "orderId": "0b0d1f8e-7d0a-4a57-9d4e-2f6c0f9b8a11",
        "total": 42,
        "currency": "USD",
        "paidAt": "2026-12-06T06:30:00Z",
    },
    "signup": {"email": "ada@example.com", "plan": "free"},
    "app_opened": {"anything": [1, {"goes": True}]},
}


def event(event_type, properties=None, **extra):
    found = {"eventType": event_type, **extra}
    if properties is not None:
        found["properties"] = properties
    if event_type == "purchase" and "context" not in extra:
        found["context"] = {"locale": "de-DE"}
    return found


def check(event_type, properties=None, **extra):
    return [tuple(violation) for violation in SHOP.check(event(event_type, properties, **extra))]


@pytest.mark.parametrize("event_type", sorted(GOOD))
def test_a_valid_event_of_each_type_passes(event_type):
    assert check(event_type, GOOD[event_type]) == []


@pytest.mark.parametrize(
    "event_type, change, expected",
    [
        ("product_viewed", {"price": "19.99"}, ("/properties/price", "expected number, got string")),
        ("product_viewed", {"price": -1}, ("/properties/price", "less than the minimum 0")),
        ("product_viewed", {"currency": "YEN"}, ("/properties/currency", "not one of 'EUR', 'USD', 'GBP'")),
        ("product_viewed", {"colour": "red"}, ("/properties/colour", "not a property of the plan")),
        ("product_viewed", {"sku": ""}, ("/properties/sku", "shorter than 1 characters")),
        ("add_to_cart", {"quantity": 1.5}, ("/properties/quantity", "expected integer, got number")),
        ("add_to_cart", {"quantity": True}, ("/properties/quantity", "expected integer, got boolean")),
        ("add_to_cart", {"quantity": 100}, ("/properties/quantity", "greater than the maximum 99")),
        ("page_view", {"path": "pricing"}, ("/properties/path", "does not match the pattern '^/'")),
        ("page_view", {"referrer": 7}, ("/properties/referrer", "expected null or string, got integer")),
        ("page_view", {"referrer": "not a uri"}, ("/properties/referrer", "not a valid uri")),
        ("page_view", {"title": "x" * 201}, ("/properties/title", "longer than 200 characters")),
        ("purchase", {"orderId": "1234"}, ("/properties/orderId", "not a valid uuid")),
        ("purchase", {"total": 0}, ("/properties/total", "not greater than 0")),
        ("purchase", {"paidAt": "yesterday"}, ("/properties/paidAt", "not a valid date-time")),
        ("purchase", {"items": []}, ("/properties/items", "fewer than 1 items")),
        ("purchase", {"items": ["a", 2]}, ("/properties/items/1", "expected string, got integer")),
        ("signup", {"email": "ada"}, ("/properties/email", "not a valid email")),
        ("signup", {"plan": "pro"}, ("/properties/plan", "expected 'free'")),
    ],
)
def test_each_kind_of_violation_is_at_its_pointer_with_a_short_message(event_type, change, expected):
    assert check(event_type, {**GOOD[event_type], **change}) == [expected]


def test_a_missing_required_property_is_reported_at_its_own_pointer():
    properties = {key: value for key, value in GOOD["product_viewed"].items() if key != "sku"}
    assert check("product_viewed", properties) == [("/properties/sku", "required property missing")]


def test_an_event_without_properties_is_checked_as_if_it_sent_an_empty_object():
    assert check("add_to_cart") == [
        ("/properties/quantity", "required property missing"),
        ("/properties/sku", "required property missing"),
    ]
    assert check("add_to_cart", {}) == check("add_to_cart")


def test_context_is_checked_when_the_plan_gives_a_schema_for_it():
    assert check("purchase", GOOD["purchase"], context={"locale": 1}) == [
        ("/context/locale", "expected string, got integer")
    ]
    assert SHOP.check({"eventType": "purchase", "properties": GOOD["purchase"]}) == [
        Violation("/context/locale", "required property missing")
    ]
    assert check("signup", GOOD["signup"], context={"locale": 1}) == []


def test_an_unnamed_type_is_flagged_at_event_type_when_other_types_are_refused():
    assert check("newsletter_opened", {"x": 1}) == [("/eventType", "not an event type of the tracking plan")]


@pytest.mark.parametrize("event_type", [None, 7, ["purchase"], {"a": 1}])
def test_an_event_type_that_is_not_a_string_is_no_type_of_the_plan(event_type):
    assert SHOP.check({"eventType": event_type}) == [Violation("/eventType", "not an event type of the tracking plan")]


def test_an_unnamed_type_passes_when_other_types_are_allowed():
    allowing = plan_from_text(json.dumps({"eventTypes": {"a": {"properties": False}}, "otherEventTypes": "allow"}))
    assert allowing.check({"eventType": "b", "properties": {"x": 1}}) == []
    assert allowing.check({"eventType": "a", "properties": {}}) == [Violation("/properties", "not allowed")]


def test_violations_come_in_pointer_order_from_properties_and_context_together():
    properties = {"orderId": "1", "total": "x", "currency": "YEN", "zzz": 1, "aaa": 2}
    found = check("purchase", properties, context={})
    assert found == sorted(found)
    assert [path for path, _ in found] == [
        "/context/locale",
        "/properties/aaa",
        "/properties/currency",
        "/properties/orderId",
        "/properties/total",
        "/properties/zzz",
    ]


def test_an_event_far_off_the_plan_gets_a_bounded_number_of_violations():
    properties = {f"extra{n:03d}": n for n in range(500)}
    found = check("product_viewed", properties)
    assert len(found) == MAX_VIOLATIONS == 10
    assert found == sorted(found)
    assert check("product_viewed", properties) == found


def test_keys_with_slash_and_tilde_are_escaped_in_pointers():
    assert check("product_viewed", {**GOOD["product_viewed"], "a/b~c": 1}) == [
        ("/properties/a~1b~0c", "not a property of the plan")
    ]


def test_a_violation_is_stored_as_path_and_message():
    assert Violation("/properties/price", "expected number, got string").as_dict() == {
        "path": "/properties/price",
        "message": "expected number, got string",
    }


def test_integers_beyond_64_bits_are_checked_as_integers():
    assert check("add_to_cart", {"sku": "A", "quantity": 10**40}) == [
        ("/properties/quantity", "greater than the maximum 99")
    ]


texts = st.text(min_size=1, max_size=30)
shop_events = st.one_of(
    st.fixed_dictionaries(
        {"path": st.from_regex(r"\A/[a-z0-9/]{0,20}\Z"), "title": st.text(max_size=200)},
        optional={"referrer": st.none() | st.just("https://example.com/a?b=c")},
    ).map(lambda p: ("page_view", p)),
    st.fixed_dictionaries(
        {
            "sku": texts,
            "price": st.floats(min_value=0, max_value=1e9) | st.integers(0, 10**30),
            "currency": st.sampled_from(["EUR", "USD", "GBP"]),
        }
    ).map(lambda p: ("product_viewed", p)),
    st.fixed_dictionaries({"sku": texts, "quantity": st.integers(1, 99)}, optional={"note": st.text()}).map(
        lambda p: ("add_to_cart", p)
    ),
    st.fixed_dictionaries(
        {
            "orderId": st.uuids().map(str),
            "total": st.floats(min_value=0.01, max_value=1e6),
            "currency": st.sampled_from(["EUR", "USD"]),
        },
        optional={"items": st.lists(st.text(), min_size=1, max_size=5)},
    ).map(lambda p: ("purchase", p)),
    # Not st.emails(): some of its IDN top-level domains are not valid email under the format's rules.
    st.fixed_dictionaries(
        {"email": st.from_regex(r"\A[a-z0-9]{1,10}(\.[a-z0-9_+-]{1,5})?@[a-z0-9]{1,10}\.(com|org|de)\Z")},
        optional={"plan": st.just("free")},
    ).map(lambda p: ("signup", p)),
    st.dictionaries(st.text(max_size=10), st.integers() | st.text() | st.none()).map(lambda p: ("app_opened", p)),
)


@given(shop_events)
def test_events_that_keep_the_plan_are_never_flagged(typed):
    event_type, properties = typed
    assert SHOP.check(event(event_type, properties)) == []


@given(
    st.dictionaries(
        st.text(max_size=12),
        st.integers() | st.text(max_size=5) | st.floats(allow_nan=False) | st.booleans() | st.none(),
        max_size=20,
    )
)
def test_any_properties_give_at_most_the_bound_in_order_and_the_same_each_time(properties):
    found = SHOP.check(event("product_viewed", properties))
    assert len(found) <= MAX_VIOLATIONS
    assert found == sorted(found)
    assert found == SHOP.check(event("product_viewed", properties))
    assert all(violation.path.startswith("/properties") for violation in found)


def test_one_plan_checks_events_from_several_threads_at_once():
    # gunicorn's gthread workers share the plan between a worker's threads.
    bad = event("product_viewed", {"price": "x", "currency": "YEN"})
    expected = SHOP.check(bad)
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda n: SHOP.check(bad if n % 2 else event("signup", GOOD["signup"])), range(2000)))
    assert results == [expected if n % 2 else [] for n in range(2000)]
