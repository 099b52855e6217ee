"""The OpenAPI document: valid OpenAPI 3.0, its hand-written patterns equal to the rules they describe."""

from __future__ import annotations

import re

import pytest
import schemathesis

from collector.ingest.schemas import timestamp_problem
from collector.openapi.document import document, render
from collector.openapi.parts import EVENT_TYPE_PATTERN, TIMESTAMP_PATTERN
from collector.settings import is_valid_event_type, load_settings


@pytest.fixture(scope="module")
def default_document():
    return document(load_settings(environ={}))


def test_the_document_is_valid_openapi_3_0(default_document):
    schema = schemathesis.openapi.from_dict(default_document)
    schema.validate()  # against the OpenAPI 3.0 meta-schema
    operations = [result.ok() for result in schema.get_all_operations()]
    assert sorted(f"{op.method.upper()} {op.path}" for op in operations) == [
        "GET /healthz",
        "GET /metrics",
        "GET /openapi.json",
        "GET /readyz",
        "POST /collect/event",
        *sorted(f"POST /v1/{call}" for call in ("alias", "batch", "group", "identify", "page", "screen", "track")),
    ]


def test_the_event_type_pattern_is_the_event_type_rule_on_every_code_point():
    pattern = re.compile(EVENT_TYPE_PATTERN)
    disagree = [
        hex(point)
        for point in range(0x110000)
        if point < 0xD800 or point > 0xDFFF
        if bool(pattern.search(chr(point))) != is_valid_event_type(chr(point))
    ]
    assert disagree == []


@pytest.mark.parametrize("value", ["page view", "  x  ", "\u3000a", "a\u00a0", "\u2028\u2029", "   ", "a\tb", "ok\x85"])
def test_the_event_type_pattern_is_the_event_type_rule_on_mixed_strings(value):
    assert bool(re.search(EVENT_TYPE_PATTERN, value)) == is_valid_event_type(value)


@pytest.mark.parametrize(
    "value",
    [
        "2026-01-31T12:00:00Z",
        "2026-01-31t12:00:00.123456789+01:00",
        "2026-01-31 12:00:00z",
        "2026-01-31T12:00:00.1234567890Z",
        "2026-01-31T12:00:00",
        "2026-01-31T12:00Z",
        "2026-1-31T12:00:00Z",
        "٢٠٢٦-01-31T12:00:00Z",
    ],
)
def test_the_timestamp_pattern_is_the_shape_the_service_accepts(value):
    # The calendar (2026-02-30) is the `date-time` format's part, not the pattern's.
    assert bool(re.search(TIMESTAMP_PATTERN, value)) == (timestamp_problem(value) is None)


def test_the_rendering_is_stable(default_document):
    assert render(default_document) == render(document(load_settings(environ={})))
    assert render(default_document).endswith(b"}\n")


def test_gzip_is_described_with_the_body_not_offered_as_a_free_header(default_document):
    # A free `Content-Encoding` header parameter made generated clients send `gzip` with a plain body.
    operation = default_document["paths"]["/collect/event"]["post"]
    assert "content-encoding" not in [p["name"].lower() for p in operation["parameters"]]
    assert "`Content-Encoding: gzip`" in operation["requestBody"]["description"]
