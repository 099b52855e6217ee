"""flask-limiter, configured through its public API: storage, strategy, cost, breaches.

flask-limiter counts and decides; this module tells it who a client is
(clients.py), what a request costs, where to count (storage.py) and what to do
on a breach: a refused request is refused whole, its cost included. The
fixed-window strategy adds the cost before comparing, so a refused batch of 500
events would use up the 100 its client had left; `give_back`, flask-limiter's
`on_breach` callback, returns it, so that the refused request costs nothing
and the headers of its 429 tell what is really left.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import flask
from flask_limiter import Limiter, RequestLimit

from ..request import record
from .identity import ClientOf, client_key_func
from .outage import STORAGE_ERRORS, StorageOutage
from .sqlite_storage import FILE_NAME, CollectorSQLiteStorage
from .storage import CollectorMemcachedStorage, storage_uri

Cost = int | Callable[[], int]


def event_cost(count_events: Callable[[flask.Request], int | None], max_events: int) -> Callable[[], int]:
    """The cost of the current request when the limit counts events (COLLECTOR_RATE_LIMIT_COST=event).

    A body that cannot be read costs 1, and the view then refuses it with its
    own 4xx. A batch over COLLECTOR_MAX_EVENTS costs that many: it gets 400,
    not a 429 that would hide what is wrong with it.
    """

    def cost() -> int:
        count = count_events(flask.request)
        return min(max(count or 1, 1), max_events)

    return cost


def build_limiter(
    *,
    storage: str,
    strategy: str,
    timeout: float,
    client: ClientOf,
    cost: Cost,
    outage: StorageOutage,
    data_dir: Path | None = None,
) -> Limiter:
    """A Limiter for `storage` (a COLLECTOR_RATE_LIMIT_STORAGE URI) counting per `client`; `init_app` it to use it.

    `data_dir` (COLLECTOR_DATA_DIR) holds the file of `sqlite://` storage.
    """
    storage_options: dict = {}
    if storage.startswith("memcached://"):
        # pymemcache waits forever by default: a hung memcached would hang
        # every request. These go to pymemcache's client as they are.
        # no_delay: TCP_NODELAY, so that Nagle's algorithm never holds a small command back.
        storage_options = {"connect_timeout": timeout, "timeout": timeout, "no_delay": True, "outage": outage}
    elif storage == "sqlite://":
        if data_dir is None:
            raise ValueError("sqlite:// storage needs the data directory")
        # The file every worker of this VM counts in (sqlite_storage.py).
        storage_options = {"path": str(data_dir / FILE_NAME), "timeout": timeout, "outage": outage}
    limiter: Limiter

    def give_back(breached: RequestLimit) -> None:
        _give_back(limiter, cost, counts_refused=strategy == "fixed-window", outage=outage)

    limiter = Limiter(
        key_func=client_key_func(client),
        storage_uri=storage_uri(storage),
        storage_options=storage_options,
        strategy=strategy,
        # Headers are written by headers.py, see there.
        headers_enabled=False,
        # Storage failures reach the outage policy inside the storage; anything
        # else the limiter raises is a bug and must not be swallowed.
        swallow_errors=False,
        key_prefix="collector",
        on_breach=give_back,
    )
    # flask-limiter limits every method of a limited route, OPTIONS included:
    # a CORS preflight (or any OPTIONS) must neither be refused nor use up the
    # budget of the POST it asks about.
    limiter.request_filter(is_options_request)
    return limiter


def is_options_request() -> bool:
    return flask.request.method == "OPTIONS"


def _give_back(limiter: Limiter, cost: Cost, counts_refused: bool, outage: StorageOutage) -> None:
    # The other strategies compare before they count, and count nothing on refusal.
    refused = record.current()
    if not counts_refused or refused.rate_limit_given_back:
        return
    refused.rate_limit_given_back = True
    amount = cost() if callable(cost) else cost
    # Every limit evaluated so far was counted, up to the one that refused
    # (flask-limiter stops at the first breach).
    for counted in limiter.current_limits:
        if counted.breached and amount == 1:
            # Over its limit by one unit or a hundred, the client is refused
            # alike until the window resets: no round trip for nothing.
            continue
        try:
            limiter.storage.decr(counted.key, amount)  # type: ignore[attr-defined]
        except STORAGE_ERRORS as error:
            outage.record(error)
            return


def check_storage(limiter: Limiter, storage: str) -> None:
    """:raises RuntimeError: if flask-limiter did not build the storage this module expects."""
    expected = {"memcached": CollectorMemcachedStorage, "sqlite": CollectorSQLiteStorage}.get(storage.split(":")[0])
    if expected is not None and not isinstance(limiter.storage, expected):
        raise RuntimeError(f"flask-limiter built {type(limiter.storage).__name__} for {storage}")
