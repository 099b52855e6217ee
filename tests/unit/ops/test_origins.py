"""The refused CORS preflights' counter: the Origin as a label, at most MAX_REFUSED_ORIGINS of them per process.

prometheus_client's registry is one per process, shared by every test: each
test reads a value before and after, with origins of its own.
"""

from __future__ import annotations

from prometheus_client import REGISTRY

from collector.ops.origins import MAX_ORIGIN_CHARS, MAX_REFUSED_ORIGINS, OTHER, RefusedOrigins

NAME = "collector_cors_preflights_refused_total"


def sample(origin: str) -> float:
    return REGISTRY.get_sample_value(NAME, {"origin": origin}) or 0.0


def test_a_refused_origin_is_its_own_label():
    before = sample("https://shop-a.example")
    RefusedOrigins().count("https://shop-a.example")
    assert sample("https://shop-a.example") - before == 1


def test_past_the_first_origins_every_new_one_is_other_and_the_first_ones_stay_their_own():
    origins = RefusedOrigins()
    first = [f"https://bound-{n}.example" for n in range(MAX_REFUSED_ORIGINS)]
    for origin in first:
        origins.count(origin)
    other = sample(OTHER)
    for n in range(50):  # an attacker's random origins: no new series
        origins.count(f"https://random-{n}.example")
    assert sample(OTHER) - other == 50
    assert all(sample(f"https://random-{n}.example") == 0 for n in range(50))
    before = sample(first[0])
    origins.count(first[0])
    assert sample(first[0]) - before == 1


def test_an_origin_that_is_not_one_or_too_long_is_other_and_takes_no_place():
    origins = RefusedOrigins(limit=1)
    other = sample(OTHER)
    for junk in ("https://" + "a" * MAX_ORIGIN_CHARS, "not an origin", "https://x.example/path", "", "\x00"):
        origins.count(junk)
    assert sample(OTHER) - other == 5
    before = sample("null")
    origins.count("null")  # a sandboxed frame or a file: page sends Origin: null
    assert sample("null") - before == 1
