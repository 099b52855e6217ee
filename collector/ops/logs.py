"""Logging, set up once: the service's own lines and gunicorn's, to stderr, as JSON or text.

COLLECTOR_LOG_FORMAT=json (the default) writes one JSON object per line, for
the journal, Loki or jq: `time`, `level`, `logger`, `pid`, `message`, and for
a line about a request its `pingId` (the one its 201 carries; refused requests
get one too, for the log). Every character a JSON parser accepts but a
terminal or a line-based tool may not (C0 and C1 controls, U+2028, U+2029) is
escaped, so that one line is one entry whatever a client sent. Event bodies and
write keys are never logged.
"""

from __future__ import annotations

import logging
import logging.config
import time
from typing import Any

import flask
import orjson

from ..request import record as request_record

TEXT_FORMAT = "%(asctime)s [%(process)d] [%(levelname)s] %(name)s: %(message)s"

# UTF-8 of characters JSON allows raw in strings that line-based readers trip
# on: C1 controls (U+0080-U+009F, which include U+0085 NEXT LINE) and the
# Unicode line and paragraph separators. orjson already escapes C0 controls.
_RAW_LINE_BREAKERS = {bytes([0xC2, c]): f"\\u{c:04x}".encode() for c in range(0x80, 0xA0)}
_RAW_LINE_BREAKERS.update({"\u2028".encode(): b"\\u2028", "\u2029".encode(): b"\\u2029"})


def json_line(entry: dict[str, Any]) -> str:
    """`entry` as one line of JSON, safe for line-based readers."""
    data = orjson.dumps(entry, default=str)
    if b"\xc2" in data or b"\xe2\x80" in data:
        for raw, escaped in _RAW_LINE_BREAKERS.items():
            data = data.replace(raw, escaped)
    return data.decode()


def utc_time(seconds: float) -> str:
    whole = int(seconds)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{int((seconds - whole) * 1000):03d}Z"


class JSONFormatter(logging.Formatter):
    """A log record as one JSON object."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": utc_time(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "pid": record.process,
            "message": record.getMessage(),
        }
        ping_id = getattr(record, "pingId", None)
        if ping_id:
            entry["pingId"] = ping_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json_line(entry)


class RequestContext(logging.Filter):
    """Adds the pingId of the request being handled, if any, to each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "pingId") and flask.has_request_context():
            record.pingId = request_record.current().ping_id
        return True


def formatter(log_format: str) -> logging.Formatter:
    return JSONFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


def configure(level: str, log_format: str = "json") -> None:
    """The service's loggers (`collector`, and flask-limiter's warnings) to stderr."""
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {"main": {"()": formatter, "log_format": log_format}},
            "filters": {"request": {"()": RequestContext}},
            "handlers": {
                "stderr": {"class": "logging.StreamHandler", "formatter": "main", "filters": ["request"]},
            },
            "loggers": {
                "collector": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
                "flask-limiter": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
            },
        }
    )
