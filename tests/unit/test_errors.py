"""The error codes: declared once, documented as declared, shaped as the contract says."""

from __future__ import annotations

import re

import orjson

from collector.errors import CODES, INVALID_JSON, error_body
from tests.processes import ROOT


def readme_error_table() -> dict[str, tuple[int, str]]:
    text = (ROOT / "docs" / "api.md").read_text()
    section = text[text.index("### Errors\n") :]
    section = section[: section.index("\n### ", 1)]
    rows = re.findall(r"^\| `([a-z0-9_]+)` \| (\d{3}) \| (.+) \|$", section, re.MULTILINE)
    return {code: (int(status), when) for code, status, when in rows}


def test_the_readme_lists_every_code_with_its_status_and_meaning():
    declared = {kind.code: (kind.status, kind.when) for kind in CODES.values()}
    assert readme_error_table() == declared


def test_codes_are_unique_lowercase_words():
    for name, kind in CODES.items():
        assert name == kind.code
        assert re.fullmatch(r"[a-z][a-z0-9_]*", name)


def test_an_error_body_keeps_the_contract_fields_and_adds_the_code():
    body = orjson.loads(error_body(INVALID_JSON, "request body is not valid JSON: x"))
    assert body == {
        "error": "Bad Request",
        "message": "request body is not valid JSON: x",
        "statusCode": 400,
        "code": "invalid_json",
    }


def test_every_503_tells_the_client_when_to_resend():
    for kind in CODES.values():
        if kind.status == 503:
            assert kind.retry_after, kind.code
