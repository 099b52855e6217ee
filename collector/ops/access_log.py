"""gunicorn's logs: the access log and gunicorn's own lines, as JSON or text, made harmless.

gunicorn formats the User-Agent, the Referer and the request line as WSGI gives
them: Latin-1 text (PEP 3333), so a UTF-8 User-Agent shows as mojibake, and any
control character a client put in a header (a raw U+0085, an ANSI escape, a
U+2028 that some viewers take for a line break) goes into the log as it is.
Here each such value is read back as UTF-8 (invalid bytes replaced) and every
control character is escaped, so that one request is one log line.

`JSONLogger` (COLLECTOR_LOG_FORMAT=json) writes gunicorn's own lines as the
service's (see logs.py) and each request as one JSON object with its pingId,
status and error code, which the app leaves in the WSGI environ
(`ENVIRON_PING_ID`, `ENVIRON_ERROR_CODE`). The query string is left out: it
may hold a write key.
"""

from __future__ import annotations

import os
import re
import time
from typing import Any

from gunicorn.glogging import Logger

from ..ingest.facts import header_text
from .logs import ENVIRON_ERROR_CODE, ENVIRON_PING_ID, JSONFormatter, json_line, utc_time

_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: str) -> str:
    """`text` with every control character escaped as Python would write it."""
    if text.isascii() and text.isprintable():
        return text
    return _UNPRINTABLE.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), text)


class AccessLogger(Logger):
    """gunicorn's Logger (`logger_class` in gunicorn.conf.py) with client-sent text made safe."""

    def atoms(self, resp: Any, req: Any, environ: dict, request_time: Any) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        for key, value in atoms.items():
            if isinstance(value, str) and not (value.isascii() and value.isprintable()):
                atoms[key] = printable(header_text(value) or "")
        return atoms


class JSONLogger(Logger):
    """gunicorn's Logger writing JSON lines: its own messages and one per request."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.setFormatter(JSONFormatter())

    def access(self, resp: Any, req: Any, environ: dict, request_time: Any) -> None:
        if not self.access_log_enabled:
            return
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        entry = {
            "time": utc_time(time.time()),
            "level": "info",
            "logger": "access",
            "pid": os.getpid(),
            "method": environ.get("REQUEST_METHOD"),
            "path": _text(environ.get("PATH_INFO")),
            "status": int(status),
            "bytes": getattr(resp, "sent", None),
            "durationMs": round(request_time.total_seconds() * 1000, 3),
            "client": environ.get("REMOTE_ADDR"),
            "userAgent": _text(environ.get("HTTP_USER_AGENT")),
            "pingId": environ.get(ENVIRON_PING_ID),
            "code": environ.get(ENVIRON_ERROR_CODE),
        }
        self.access_log.info(json_line({key: value for key, value in entry.items() if value is not None}))


def _text(value: str | None) -> str | None:
    return header_text(value) if value is not None else None
