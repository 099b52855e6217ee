"""collector/store/reading.py: what the readers take from a stored line (the rest is tested through the commands)."""

from __future__ import annotations

import pytest

from collector.store.reading import bot_of, events_of_file

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


def test_events_of_file_gives_the_lines_as_written_and_says_each_bad_one(tmp_path):
    path = tmp_path / "events-20261126T050000.000000Z-h-1-000001.jsonl.open"
    first = b'{"eventType":"a","receivedAt":"2026-11-26T05:00:02.000Z"}\n'
    second = b'{"eventType":"b","receivedAt":"2026-11-26T05:00:01.000Z"}\n'
    path.write_bytes(first + b"{bad\n" + second + b'{"eventType":"c"')
    problems = []
    assert [line for line, _ in events_of_file(path, problems.append)] == [first, second]
    assert [(problem.line, problem.reason.split(":")[0]) for problem in problems] == [
        (2, "not valid JSON"),
        (4, "torn line"),
    ]
