"""collector/store/reading.py: what the readers take from a stored line (the rest is tested through the commands)."""

from __future__ import annotations

import pytest

from collector.store.reading import bot_of

CRAWLER = {"name": "Googlebot", "category": "crawler"}


@pytest.mark.parametrize(
    ("event", "bot"),
    [
        ({"client": {"ip": "66.249.66.1", "bot": CRAWLER}}, CRAWLER),
        ({"client": {"ip": "203.0.113.7"}}, None),
        ({"client": None}, None),  # a line written by hand, or by an older version
        ({}, None),
        ({"client": {"bot": "Googlebot"}}, None),  # not the object the service stores
    ],
)
def test_bot_of_is_the_stored_client_bot_or_none(event, bot):
    assert bot_of(event) == bot
