"""Who may ask the console: with COLLECTOR_CONSOLE_KEY, whoever carries it; without, loopback names only.

Two ways to carry the key: HTTP Basic with any user name and the key as
password (a browser prompts for it, and resends it with every request of the
page), or `Authorization: Bearer <key>` for scripts. Compared in constant time.
Without it, a 401 that makes a browser ask.

Without a key the console binds to loopback (server.py), but that alone does
not stop a page the operator visits elsewhere: its name can be rebound to
127.0.0.1 (DNS rebinding), and the browser then sends the page's own requests
to the console as same-origin, `Host: attacker.example:8700` and all, through
an `ssh -L` tunnel too. So a console without a key answers only requests that
name it as loopback: `localhost`, `127.0.0.1` or `[::1]`, any port.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from collections.abc import Callable

import flask

from ..errors import CONSOLE_KEY_REQUIRED, HOST_NOT_ALLOWED, CollectorError

CHALLENGE = 'Basic realm="collector console", charset="UTF-8"'
# The Host header of a request to the console on loopback: a loopback name,
# an optional port. Host names are case-insensitive.
LOOPBACK_HOST = re.compile(r"(localhost|127\.0\.0\.1|\[::1\])(:[0-9]{1,5})?", re.IGNORECASE)


def given_key(header: str | None) -> str | None:
    """The key an Authorization header carries (Basic: its password; Bearer: its token), or None."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer":
        return value or None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        _, colon, password = decoded.partition(":")
        return password if colon else None
    return None


def require_key(key: str) -> Callable[[], None]:
    expected = key.encode("utf-8")

    def check_key() -> None:
        given = given_key(flask.request.headers.get("Authorization"))
        if given is None or not hmac.compare_digest(given.encode("utf-8"), expected):
            raise CollectorError(
                CONSOLE_KEY_REQUIRED,
                "this console needs its key: HTTP Basic with the key as password, or Authorization: Bearer <key>",
                headers={"WWW-Authenticate": CHALLENGE},
            )

    return check_key


def is_loopback_host(host: str | None) -> bool:
    """Whether a Host header names loopback; none at all (HTTP/1.0 tools, never a browser) does too."""
    return host is None or LOOPBACK_HOST.fullmatch(host.strip()) is not None


def require_loopback_host() -> None:
    """Reject a request to a keyless console that does not name it as loopback (DNS rebinding)."""
    host = flask.request.headers.get("Host")
    if host is not None and not is_loopback_host(host):
        raise CollectorError(
            HOST_NOT_ALLOWED,
            f"this console has no key and answers only as localhost, 127.0.0.1 or [::1], not {host[:100]!r}; "
            "to reach it under another name, set COLLECTOR_CONSOLE_KEY",
        )
