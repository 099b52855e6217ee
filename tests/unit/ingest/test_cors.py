"""Which origins may read the answers, and how their headers are written."""

from __future__ import annotations

import pytest

from collector.ingest.cors import AllowedOrigins, normalized_origin, with_vary_origin


@pytest.mark.parametrize(
    "origin, normalized",
    [
        ("https://Shop.Example.com", "https://shop.example.com"),
        ("https://shop.example.com:443", "https://shop.example.com"),
        ("http://shop.example.com:80/", "http://shop.example.com"),
        ("http://shop.example.com:443", "http://shop.example.com:443"),
        ("http://[::1]:8080", "http://[::1]:8080"),
    ],
)
def test_origins_compare_as_browsers_serialize_them(origin, normalized):
    assert normalized_origin(origin) == normalized


def test_only_listed_origins_are_allowed():
    allowed = AllowedOrigins({"https://shop.example.com", "http://localhost:3000"})
    assert allowed.allows("https://shop.example.com")
    assert allowed.allows("https://shop.example.com:443")
    assert allowed.allows("http://localhost:3000")
    assert not allowed.allows("http://localhost:3001")
    assert not allowed.allows("http://shop.example.com")
    assert not allowed.allows("https://shop.example.com.evil.net")
    assert not allowed.allows("null")
    assert not allowed.allows(None)
    assert not allowed.allows("")


def test_star_allows_any_origin_that_is_sent():
    allowed = AllowedOrigins({"*"})
    assert allowed.allows("https://anything.example")
    assert allowed.allows("null")  # a sandboxed iframe or a file:// page
    assert not allowed.allows(None)


@pytest.mark.parametrize(
    "headers, vary",
    [
        ([], "Origin"),
        ([("Vary", "Accept-Encoding")], "Accept-Encoding, Origin"),
        ([("vary", "origin")], "origin"),
    ],
)
def test_origin_is_added_to_vary_once(headers, vary):
    [value] = [value for name, value in with_vary_origin(headers) if name.lower() == "vary"]
    assert value == vary
