"""gunicorn's access log, with what clients sent shown as they sent it and made harmless.

gunicorn formats the User-Agent, the Referer and the request line as WSGI gives
them: Latin-1 text (PEP 3333), so a UTF-8 User-Agent shows as mojibake, and any
control character a client put in a header (a raw U+0085, an ANSI escape, a
U+2028 that some viewers take for a line break) goes into the log as it is.
Here each such value is read back as UTF-8 (invalid bytes replaced) and every
control character is escaped (`\\x85`), so one request is one log line.
"""

from __future__ import annotations

import re
from typing import Any

from gunicorn.glogging import Logger

from ..ingest.facts import header_text

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
