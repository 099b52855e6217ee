"""The console's key: every request carries COLLECTOR_CONSOLE_KEY, or gets a 401 that makes a browser ask.

Two ways to carry it: HTTP Basic with any user name and the key as password
(a browser prompts for it, and resends it with every request of the page),
or `Authorization: Bearer <key>` for scripts. Compared in constant time.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Callable

import flask

from ..errors import CONSOLE_KEY_REQUIRED, CollectorError

CHALLENGE = 'Basic realm="collector console", charset="UTF-8"'


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
