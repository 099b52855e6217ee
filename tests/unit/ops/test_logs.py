"""The log lines: one JSON object each, safe for line-based readers, with the request's pingId."""

from __future__ import annotations

import logging

import orjson

from collector.ops.logs import JSONFormatter, RequestContext, json_line


def record(message: str, **extra) -> logging.LogRecord:
    entry = logging.LogRecord("collector.test", logging.WARNING, __file__, 1, message, (), None)
    entry.__dict__.update(extra)
    return entry


def test_a_record_is_one_json_object_with_time_level_logger_pid_and_message():
    line = JSONFormatter().format(record("disk %s", pingId="p-1"))
    entry = orjson.loads(line)
    assert entry["level"] == "warning" and entry["logger"] == "collector.test"
    assert entry["message"] == "disk %s" and entry["pingId"] == "p-1"
    assert entry["time"].endswith("Z") and isinstance(entry["pid"], int)


def test_characters_that_break_lines_are_escaped():
    line = json_line({"message": "a\nb\u2028c\u2029d\x85e\x1bf"})
    assert "\n" not in line and "\u2028" not in line and "\u2029" not in line and "\x85" not in line
    assert orjson.loads(line)["message"] == "a\nb\u2028c\u2029d\x85e\x1bf"


def test_a_traceback_stays_inside_its_line():
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        entry = record("failed", exc_info=sys.exc_info())
    line = JSONFormatter().format(entry)
    assert "\n" not in line
    assert orjson.loads(line)["exception"].startswith("Traceback (most recent call last)")


def test_lines_logged_in_a_request_carry_its_ping_id(app):
    from collector.request import record as request_record

    with app.test_request_context("/collect/event", method="POST"):
        request_record.current().ping_id = "ping-123"
        entry = record("inside")
        RequestContext().filter(entry)
    assert entry.pingId == "ping-123"
    outside = record("outside")
    RequestContext().filter(outside)
    assert not hasattr(outside, "pingId")
