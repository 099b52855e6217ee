"""A plan file's JSON: keys repeated anywhere are found with their pointer; what JSON parsers let pass is refused."""

from __future__ import annotations

import pytest

from collector.plan.document import DocumentError, parse


def test_a_document_without_repeats_is_plain_json():
    document = parse('{"a": [{"b": 1}, {"b": 2}], "c": {"d": null}}')
    assert document == {"a": [{"b": 1}, {"b": 2}], "c": {"d": None}}
    assert type(document) is dict and type(document["a"][0]) is dict


@pytest.mark.parametrize(
    "text, at",
    [
        ('{"a": 1, "a": 2}', "/a"),
        ('{"a": [{"x": 1}, {"b": 1, "b": 1}]}', "/a/1/b"),
        ('{"a~b": {"c/d": {}, "c/d": {}}}', "/a~0b/c~1d"),
        ('{"outer": {"x": 1, "x": 2}, "outer2": 1, "outer2": 2}', "/outer2"),
    ],
)
def test_a_repeated_key_is_found_at_its_pointer(text, at):
    with pytest.raises(DocumentError) as raised:
        parse(text)
    assert raised.value.at == at
    assert "named twice" in raised.value.reason


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_numbers_that_are_not_json_are_refused(constant):
    with pytest.raises(DocumentError, match=f"not JSON: {constant} is not JSON"):
        parse('{"minimum": %s}' % constant)  # noqa: UP031 - a JSON text: with %, its braces need no doubling


def test_a_syntax_error_has_its_line_and_column():
    with pytest.raises(DocumentError) as raised:
        parse('{\n  "a": 1,\n}')
    assert (raised.value.line, raised.value.column) == (3, 1)
    assert raised.value.reason.startswith("not JSON: ")


def test_nesting_too_deep_for_python_is_a_document_error():
    with pytest.raises(DocumentError, match="not JSON"):
        parse("[" * 100_000 + "]" * 100_000)
