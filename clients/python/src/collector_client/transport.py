"""One POST of a batch over a kept-alive HTTP(S) connection, with the standard library only."""

from __future__ import annotations

import http.client
import json
import ssl
import time
import urllib.parse
from dataclasses import dataclass

from .retry import retry_after_seconds


@dataclass(frozen=True)
class Answer:
    """What came back: status None means no answer at all (connection refused, reset, timed out)."""

    status: int | None
    code: str | None = None
    retry_after: float | None = None
    detail: str = ""


class Transport:
    """Posts bodies to `<url>/collect/event`. Used by the sending thread only (http.client is not thread-safe)."""

    def __init__(self, url: str, timeout: float, user_agent: str) -> None:
        parts = urllib.parse.urlsplit(url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"the collector's URL must be http(s)://host[:port][/prefix], not {url!r}")
        self.parts = parts
        self.host: str = parts.hostname
        self.path = parts.path + "/collect/event"
        self.timeout = timeout
        self.user_agent = user_agent
        self._conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            if self.parts.scheme == "https":
                self._conn = http.client.HTTPSConnection(
                    self.host, self.parts.port, timeout=self.timeout, context=ssl.create_default_context()
                )
            else:
                self._conn = http.client.HTTPConnection(self.host, self.parts.port, timeout=self.timeout)
        return self._conn

    def post(self, body: bytes, headers: dict[str, str]) -> Answer:
        """Send once; never raises for network trouble (that is an Answer with status None)."""
        all_headers = {"Content-Type": "application/json", "User-Agent": self.user_agent, **headers}
        try:
            conn = self._connection()
            conn.request("POST", self.path, body=body, headers=all_headers)
            response = conn.getresponse()
            content = response.read()
        except (OSError, http.client.HTTPException) as error:
            # The connection may be half-used: start afresh on the next attempt.
            self.close()
            return Answer(None, detail=f"{type(error).__name__}: {error}")
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        code = _code_of(content)
        retry_after = retry_after_seconds(response.getheader("Retry-After"), time.time())
        return Answer(response.status, code, retry_after, content[:300].decode("utf-8", "replace"))

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _code_of(content: bytes) -> str | None:
    """The collector's stable error `code`; None for a body from elsewhere (a proxy's HTML page)."""
    try:
        body = json.loads(content)
    except ValueError:
        return None
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, str) else None
