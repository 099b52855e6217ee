"""A cheap 429 for clients already refused in their current window.

With the fixed-window strategy and a cost of one per request, a client that
flask-limiter refused stays refused until that window resets: the counter only
grows within a window. So each worker remembers its refusals (client key ->
reset time, and the 429 it sent) and answers the client's next requests in the
window from a small WSGI middleware, before Flask, flask-limiter, memcached or
the body are touched. An abusive client then costs little, as the doc's rate
limits intend.

flask-limiter stays the one that decides: this only replays its verdict, and
only where the replay cannot differ from it (fixed-window, cost per request).
If memcached is flushed or restarted mid-window, a remembered client stays
refused until its window ends, which errs on the side of the limit.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterable

from ..errors import RATE_LIMITED
from ..ops.instrument import ENVIRON_REPLAYED
from ..ops.logs import ENVIRON_ERROR_CODE, ENVIRON_PING_ID
from .headers import rate_limit_headers

# Clients remembered per worker at most; past it, those whose window ended go.
MAX_REMEMBERED_CLIENTS = 100_000


class Refusals:
    """Clients refused in their current window, in this process."""

    def __init__(self) -> None:
        self._until: dict[str, tuple[float, str, bytes]] = {}
        self._lock = threading.Lock()

    def remember(self, key: str, reset_at: float, limit_header: str, body: bytes) -> None:
        with self._lock:
            if len(self._until) >= MAX_REMEMBERED_CLIENTS:
                now = time.time()
                self._until = {k: v for k, v in self._until.items() if v[0] > now}
                if len(self._until) >= MAX_REMEMBERED_CLIENTS:
                    # Every one still refused: this client is not remembered.
                    # The replay only saves work; the limiter still refuses it.
                    return
            self._until[key] = (reset_at, limit_header, body)

    def refusal_for(self, key: str, now: float) -> tuple[float, str, bytes] | None:
        refusal = self._until.get(key)
        if refusal is None:
            return None
        if refusal[0] <= now:
            self._until.pop(key, None)
            return None
        return refusal


class RefuseKnownClients:
    """WSGI middleware: POST `path` from a remembered client gets its 429 again.

    `client_key` tells the client from the WSGI environ exactly as flask-limiter's
    key function does (`clients.client_of`): its address, or its write key with
    COLLECTOR_RATE_LIMIT_BY=key, so a key's refusal is never replayed by address.
    """

    def __init__(
        self,
        app: Callable,
        refusals: Refusals,
        client_key: Callable[[dict], str],
        path: str = "/collect/event",
    ) -> None:
        self.app = app
        self.refusals = refusals
        self.client_key = client_key
        self.path = path

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "POST" and environ.get("PATH_INFO") == self.path:
            now = time.time()
            refusal = self.refusals.refusal_for(self.client_key(environ), now)
            if refusal is not None:
                environ[ENVIRON_ERROR_CODE] = RATE_LIMITED.code
                environ[ENVIRON_PING_ID] = str(uuid.uuid4())
                environ[ENVIRON_REPLAYED] = True  # counted apart from flask-limiter's own 429s
                return self._refuse(refusal, start_response)
        return self.app(environ, start_response)

    @staticmethod
    def _refuse(refusal: tuple[float, str, bytes], start_response: Callable):
        reset_at, limit, body = refusal
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        start_response("429 TOO MANY REQUESTS", headers + rate_limit_headers(limit, 0, reset_at, refused=True))
        return [body]
