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
The verdict lives in the storage, so a replay first reads the window's count
there (one `get`, no body, no Flask): a storage that forgot the window (a
memcached flushed or restarted, the SQLite file deleted) starts it afresh, as
docs/rate-limits.md says, and the request goes on to the limiter. So does a request
whose read fails: the limiter then applies the outage policy to it like to
any other (COLLECTOR_RATE_LIMIT_ON_ERROR), never a 429 the storage no longer backs.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Collection, Iterable
from typing import NamedTuple, Protocol

from ..errors import RATE_LIMITED
from ..request import record
from .headers import rate_limit_headers

# Clients remembered per worker at most; past it, those whose window ended go.
MAX_REMEMBERED_CLIENTS = 100_000


class Refusal(NamedTuple):
    """A remembered 429: when its window resets, its limit header and body, and the window's counter."""

    reset_at: float
    limit: str
    body: bytes
    counter_key: str = ""  # the limiter's key of the window; "" when unknown (never read back)


# Whether the storage still holds the window `counter_key` over `limit` (see the module doc).
StillRefused = Callable[[str, int], bool]


class Refusals:
    """Clients refused in their current window, in this process."""

    def __init__(self) -> None:
        self._until: dict[str, Refusal] = {}
        self._lock = threading.Lock()

    def remember(self, key: str, reset_at: float, limit_header: str, body: bytes, counter_key: str = "") -> None:
        with self._lock:
            if len(self._until) >= MAX_REMEMBERED_CLIENTS:
                now = time.time()
                self._until = {k: v for k, v in self._until.items() if v[0] > now}
                if len(self._until) >= MAX_REMEMBERED_CLIENTS:
                    # Every one still refused: this client is not remembered.
                    # The replay only saves work; the limiter still refuses it.
                    return
            self._until[key] = Refusal(reset_at, limit_header, body, counter_key)

    def forget(self, key: str) -> None:
        self._until.pop(key, None)

    def refusal_for(self, key: str, now: float) -> Refusal | None:
        refusal = self._until.get(key)
        if refusal is None:
            return None
        if refusal[0] <= now:
            self._until.pop(key, None)
            return None
        return refusal


class RefuseKnownClients:
    """WSGI middleware: a POST to one of `paths` from a remembered client gets its 429 again.

    `paths` are every path of the limited routes (/collect/event and the
    Segment-compatible /v1/ ones): they share one limit, so a client refused on
    one is refused on all, with the same body (flask-limiter's 429 is the same
    on every route).

    `client_key` tells the client from the WSGI environ exactly as flask-limiter's
    key function does (`clients.client_of`): its address, or its write key with
    COLLECTOR_RATE_LIMIT_BY=key, so a key's refusal is never replayed by address.
    `still_refused` asks the storage whether the window still refuses (None: never asked).
    """

    def __init__(
        self,
        app: Callable,
        refusals: Refusals,
        client_key: Callable[[dict], str],
        paths: Collection[str],
        still_refused: StillRefused | None = None,
    ) -> None:
        self.app = app
        self.still_refused = still_refused
        self.refusals = refusals
        self.client_key = client_key
        self.paths = frozenset(paths)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "POST" and environ.get("PATH_INFO") in self.paths:
            client = self.client_key(environ)
            refusal = self.refusals.refusal_for(client, time.time())
            if refusal is not None and not self._storage_holds(refusal):
                self.refusals.forget(client)  # the storage forgot the window: the limiter decides afresh
                refusal = None
            if refusal is not None:
                replayed = record.of(environ)
                replayed.error_code = RATE_LIMITED.code
                replayed.ping_id = str(uuid.uuid4())
                replayed.replayed_refusal = True  # counted apart from flask-limiter's own 429s
                return self._refuse(refusal, start_response)
        return self.app(environ, start_response)

    def _storage_holds(self, refusal: Refusal) -> bool:
        if self.still_refused is None or not refusal.counter_key:
            return True
        return self.still_refused(refusal.counter_key, int(refusal.limit))

    @staticmethod
    def _refuse(refusal: Refusal, start_response: Callable) -> list[bytes]:
        reset_at, limit, body, _ = refusal
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        start_response("429 TOO MANY REQUESTS", headers + rate_limit_headers(limit, 0, reset_at, refused=True))
        return [body]


class Counts(Protocol):
    """What `storage_check` reads: limits' storage, or whatever has its `get`."""

    def get(self, key: str) -> int: ...


def storage_check(storage: Counts, errors: tuple[type[BaseException], ...]) -> StillRefused:
    """A `StillRefused` reading limits' storage (its public `get`); a failed read answers False.

    With the fixed window and a cost of one, the next request is refused while
    the count has reached the limit: its own hit would take it over.
    """

    def still_refused(counter_key: str, limit: int) -> bool:
        try:
            return storage.get(counter_key) >= limit
        except errors:
            return False  # the limiter's own check meets the failure and applies the outage policy

    return still_refused
