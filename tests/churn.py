"""Load with a new connection per request, from several client threads: what a restart must not drop.

Standard library only, so that the benchmark (bench/reload_options.py) sends
the same load as the system tests (tests/system/test_reloads.py).
"""

from __future__ import annotations

import http.client
import itertools
import json
import threading
import time


def post_on_new_connections(
    port: int,
    count: int,
    clients: int = 8,
    stop: threading.Event | None = None,
    seconds: float = 120,
    outcomes: list[tuple[str, int | str]] | None = None,
) -> list[tuple[str, int | str]]:
    """POST up to `count` events, each on a connection of its own: [(eventId, status or error)].

    Stops early once `stop` is set or after `seconds`; each request gives up
    after 30 s. `outcomes`, when given, is filled as the answers come.
    """
    numbers = itertools.count()
    outcomes = [] if outcomes is None else outcomes
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client() -> None:
        while not (stop is not None and stop.is_set()) and time.monotonic() < deadline:
            with lock:
                number = next(numbers)
            if number >= count:
                return
            event_id = f"churn-{number}"
            outcome = post_once(port, event_id)
            with lock:
                outcomes.append((event_id, outcome))

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 60)
    return outcomes


def post_once(port: int, event_id: str) -> int | str:
    """The status of one POST on a new connection, or the error that stopped it."""
    body = json.dumps({"messageBody": [{"eventType": "churn", "eventId": event_id}]})
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(
            "POST", "/collect/event", body, {"Content-Type": "application/json", "Connection": "close"}
        )
        answer = connection.getresponse()
        answer.read()
        return answer.status
    except (OSError, http.client.HTTPException) as error:
        return f"{type(error).__name__}: {error}"
    finally:
        connection.close()
