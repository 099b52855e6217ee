"""gunicorn's logs: the access log and gunicorn's own lines, as JSON or text, made harmless.

gunicorn formats the User-Agent, the Referer and the request line as WSGI gives
them: Latin-1 text (PEP 3333), so a UTF-8 User-Agent shows as mojibake, and any
control character a client put in a header (a raw U+0085, an ANSI escape, a
U+2028 that some viewers take for a line break) goes into the log as it is.
Here each such value is read back as UTF-8 (invalid bytes replaced) and every
control character is escaped, so that one request is one log line.

`JSONLogger` (COLLECTOR_LOG_FORMAT=json) writes gunicorn's own lines as the
service's (see logs.py) and each request as one JSON object with its pingId,
status and error code, which the app leaves on the request's record
(collector/request/record.py). The query string is left out: it
may hold a write key.

Both loggers keep secrets out of the log (`KeepsSecrets`): `writeKey=` values
(the name in any case or percent-coding) in the request line and query string
(`%(r)s`, `%(q)s`) and gunicorn's own lines become `[redacted]`; so does a
header line (or a request line that is not one) that gunicorn quotes when it
cannot parse it (`Invalid HTTP Header: 'X-Collector-Key [redacted]'`), but for
its name; the user (`%(u)s`) is
always `-`, as gunicorn would take it from `Authorization: Basic`; the key
headers and every WSGI environ atom (`%({...}e)s`: the address, the query
string) are not offered to a custom format. With COLLECTOR_CLIENT_IP other than `full` the client's address is
logged as it is stored (`%(h)s`, `client`: truncated, hashed or `-`), the
forwarding headers are not offered, and gunicorn's "Invalid request from ip="
line shows the same form.
"""

from __future__ import annotations

import logging
import os
import re
import time
from typing import Any
from urllib.parse import unquote

from gunicorn.glogging import Logger

from ..request import record
from ..request.privacy import Shown, address_shown
from ..request.text import WRITE_KEY_PARAMETER, header_text
from ..settings import Settings
from .logs import JSONFormatter, json_line, utc_time

_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: str) -> str:
    """`text` with every control character escaped as Python would write it."""
    if text.isascii() and text.isprintable():
        return text
    return _UNPRINTABLE.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), text)


REDACTED = "[redacted]"
# Any parameter whose name, percent-decoded, is `writeKey` in any case: the
# service takes only the literal name (collector.ingest.keys), but a client that
# misspells it has still sent its key.
_QUERY_PARAMETER = re.compile(r"((?:^|[?&])([^=&\s]*)=)[^&\s]*")
_KEY_NAME = WRITE_KEY_PARAMETER.lower()
_KEY_HEADER_ATOMS = ("{authorization}i", "{x-collector-key}i")
_FORWARDING_HEADER_ATOMS = ("{x-forwarded-for}i", "{forwarded}i", "{x-real-ip}i")
# gunicorn's warning about a request it could not parse, with the socket's address.
_INVALID_REQUEST_FROM = re.compile(r"^(Invalid request from ip=)(.*?): ")


def without_write_keys(text: str) -> str:
    """`text` (a request line, a query string) with every `writeKey=` value redacted, in any case or coding."""
    if "=" not in text:
        return text

    def redact(match: re.Match) -> str:
        is_key = unquote(match.group(2), errors="replace").lower() == _KEY_NAME
        return match.group(1) + REDACTED if is_key else match.group()

    return _QUERY_PARAMETER.sub(redact, text)


# gunicorn's parse errors that quote what a client sent (gunicorn.http.errors:
# InvalidHeader, InvalidHeaderName, ObsoleteFolding, InvalidRequestLine), as its
# Worker.handle_error words them.
_QUOTED = re.compile(
    r"((Invalid HTTP Header|Invalid HTTP header name|Obsolete line folding is unacceptable"
    r"|Invalid HTTP request line): )(['\"])(.*)\3$"
)
# A method and a target (origin, asterisk or absolute form): a request line, shown without its keys.
_REQUEST_LINE = re.compile(r"[A-Z]+ (?:/|\*|[A-Za-z][A-Za-z0-9+.-]*://)\S*(?: HTTP/\S+)?")
_NAME_THEN_MORE = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}(?=[\s:\\])")
# What gunicorn names when a value is invalid; kept whole.
_NAMED_BY_GUNICORN = frozenset({"CONTENT-LENGTH", "TRANSFER-ENCODING"})


def without_quoted_secrets(message: str) -> str:
    """`message` with what gunicorn quotes of a malformed request cut to what holds no key.

    A header line shows its name only: the rest may be a key. So does a
    "request line" that is not one (a stray header line, after a body whose
    length was miscounted). A line without a name (a bare key, a client's bug)
    shows nothing; a name alone only if gunicorn itself names it.
    """
    match = _QUOTED.search(message)
    if match is None:
        return message
    quoted = match.group(4)
    if match.group(2) == "Invalid HTTP request line" and _REQUEST_LINE.fullmatch(quoted):
        shown = without_write_keys(quoted)
    elif quoted in _NAMED_BY_GUNICORN:
        shown = quoted
    else:
        name = _NAME_THEN_MORE.match(quoted)
        shown = f"{name.group()} {REDACTED}" if name else REDACTED
    return message[: match.start()] + f"{match.group(1)}{match.group(3)}{shown}{match.group(3)}"


class _Redact(logging.Filter):
    """gunicorn's own lines without write keys, and with the client's address as it is stored."""

    def __init__(self, shown: Shown | None) -> None:
        super().__init__()
        self.shown = shown

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = without_quoted_secrets(message)
        if cleaned == message:  # not a quote of a malformed request (its request line is done)
            cleaned = without_write_keys(message)
        if self.shown is not None:
            shown = self.shown
            cleaned = _INVALID_REQUEST_FROM.sub(
                lambda match: f"{match.group(1)}{shown(match.group(2)) or '-'}: ", cleaned
            )
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


class KeepsSecrets(Logger):
    """What both loggers leave out: write keys always, and the address as COLLECTOR_CLIENT_IP says."""

    # COLLECTOR_CLIENT_IP, as gunicorn's configuration read it: set on the class
    # `logger_class(settings)` makes, which is how it reaches gunicorn's logger.
    client_ip: str | None = None

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        # The mode of the class that `cfg` names, not of type(self): a SIGHUP
        # re-reads the configuration and sets up this same logger with the new cfg
        # (gunicorn's Arbiter.setup), whose class carries the settings read then.
        mode = getattr(cfg.logger_class, "client_ip", None)
        if mode is None:  # no mode to fall back on that would not log addresses wrongly, or read settings again
            raise TypeError("the collector's gunicorn logger is made by access_log.logger_class(settings)")
        # None: addresses are logged as they are.
        self.shown_address: Shown | None = None if mode == "full" else address_shown(mode)
        for old in [f for f in self.error_log.filters if isinstance(f, _Redact)]:
            self.error_log.removeFilter(old)  # a config reload (SIGHUP) runs setup again
        self.error_log.addFilter(_Redact(self.shown_address))

    def client_shown(self, environ: dict) -> str | None:
        address = environ.get("REMOTE_ADDR")
        return address if self.shown_address is None else self.shown_address(address)

    def without_secrets(self, atoms: dict, environ: dict) -> dict:
        for name in ("r", "q"):
            if isinstance(atoms.get(name), str):
                atoms[name] = without_write_keys(atoms[name])
        hidden = _KEY_HEADER_ATOMS if self.shown_address is None else _KEY_HEADER_ATOMS + _FORWARDING_HEADER_ATOMS
        # A name left out reads as `-` (gunicorn's safe atoms).
        kept = {name: value for name, value in atoms.items() if name not in hidden and not name.endswith("}e")}
        kept["h"] = self.client_shown(environ) or "-"
        # gunicorn takes the user from `Authorization: Basic`, where
        # Segment-style clients send their write key.
        kept["u"] = "-"
        return kept


class AccessLogger(KeepsSecrets):
    """gunicorn's Logger (`logger_class` in gunicorn.conf.py) with client-sent text made safe."""

    def atoms(self, resp: Any, req: Any, environ: dict, request_time: Any) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        for key, value in atoms.items():
            if isinstance(value, str) and not (value.isascii() and value.isprintable()):
                atoms[key] = printable(header_text(value) or "")
        return self.without_secrets(atoms, environ)


class JSONLogger(KeepsSecrets):
    """gunicorn's Logger writing JSON lines: its own messages and one per request."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.setFormatter(JSONFormatter())

    def access(self, resp: Any, req: Any, environ: dict, request_time: Any) -> None:
        if not self.access_log_enabled:
            return
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        answered = record.of(environ)
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
            "client": self.client_shown(environ),
            "userAgent": _text(environ.get("HTTP_USER_AGENT")),
            "pingId": answered.ping_id,
            "code": answered.error_code,
        }
        self.access_log.info(json_line({key: value for key, value in entry.items() if value is not None}))


def _text(value: str | None) -> str | None:
    return header_text(value) if value is not None else None


def logger_class(settings: Settings) -> type[KeepsSecrets]:
    """gunicorn's `logger_class` for `settings`: the logger of COLLECTOR_LOG_FORMAT, holding COLLECTOR_CLIENT_IP.

    gunicorn makes its logger from the class its configuration names
    (`cfg.logger_class(cfg)`) and hands it nothing else, so the class carries
    what the configuration read, once (collector/server/startup.py): the
    logger does not read the environment again.
    """
    base = JSONLogger if settings.log_format == "json" else AccessLogger
    return type(base.__name__, (base,), {"client_ip": settings.client_ip, "__module__": __name__})
