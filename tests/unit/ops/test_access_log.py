"""The access log shows client-sent text as sent, one request per line."""

from __future__ import annotations

import pytest

from collector.ops.access_log import printable


@pytest.mark.parametrize(
    "text, shown",
    [
        ("curl/8.0", "curl/8.0"),
        ("MyApp (ТЕСТ)", "MyApp (ТЕСТ)"),
        ("a\x85b", "a\\x85b"),
        ("a\u2028b\nc", "a\\u2028b\\nc"),
        ("\x1b[31mred", "\\x1b[31mred"),
    ],
)
def test_control_characters_are_escaped_and_the_rest_kept(text, shown):
    assert printable(text) == shown
