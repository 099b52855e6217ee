"""Rejected requests kept as dead letters (COLLECTOR_DEAD_LETTER=on), after the answer is made.

Every rejection of POST /collect/event (and of the /v1/ routes) is kept, whatever raised it, with the
body as the collector read it (inflated, if it came gzipped), except the
rate-limited, unauthorised and bot-refused ones: those are counted in the
metrics and never stored, so that a client hammering the service (a crawler
with COLLECTOR_BOTS=refuse) cannot fill the disk with them; nor the
suppressed ones (COLLECTOR_SUPPRESSED_IDS_FILE), whose body holds the events
of a person who asked not to be collected.
The client is kept as a stored event keeps it (COLLECTOR_CLIENT_IP applies,
and `keyId` with write keys), and so is the request's `Idempotency-Key`: a
replay stores the letter under them, as the request would have been stored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import flask
import orjson

from ..errors import SUPPRESSED
from ..idempotency import HEADER as IDEMPOTENCY_KEY
from ..request import record

if TYPE_CHECKING:
    from ..ingest import Intake
    from .letters import DeadLetters

# 401 (write keys), 403 (bot_refused, suppressed), 429 (rate limits).
NOT_KEPT = frozenset({401, 403, 429})
# Never kept whatever becomes of its status above: a letter holds the raw body, and so would keep the very
# events of a person who asked not to be collected (COLLECTOR_SUPPRESSED_IDS_FILE).
NEVER_KEPT_CODES = frozenset({SUPPRESSED.code})
COLLECT_PATH = "/collect/event"
COLLECT_BLUEPRINT = "collect"  # /collect/event and the Segment-compatible /v1/ routes


def keeper(letters: DeadLetters | None, intake: Intake) -> Callable[[flask.Response], flask.Response] | None:
    """The after_request that keeps rejected requests in `letters`; None without them (COLLECTOR_DEAD_LETTER=off)."""
    return KeepRejected(letters, intake).keep_rejected if letters is not None else None


class KeepRejected:
    """Keeps rejected requests in `letters`, the client as `intake` keeps a stored event's."""

    def __init__(self, letters: DeadLetters, intake: Intake) -> None:
        self.letters = letters
        self.intake = intake

    def keep_rejected(self, response: flask.Response) -> flask.Response:
        """after_request: keep a rejected request to one of the data path's routes (the collect blueprint)."""
        status = response.status_code
        if status < 400 or status in NOT_KEPT or flask.request.blueprint != COLLECT_BLUEPRINT:
            return response
        if record.current().error_code in NEVER_KEPT_CODES:
            return response
        self.keep(response, status)
        return response

    def keep(self, response: flask.Response, status: int) -> None:
        """Keep the current request, rejected with `response`."""
        try:
            message = orjson.loads(response.get_data()).get("message", "")
        except (orjson.JSONDecodeError, AttributeError):
            message = ""
        rejected = record.current()
        facts = self.intake.facts(flask.request)
        client = {"ip": facts.client_ip, "userAgent": facts.user_agent}
        if facts.key_id is not None:
            client["keyId"] = facts.key_id
        kept = {"pingId": facts.ping_id, "contentType": flask.request.content_type, "client": client}
        if flask.request.path != COLLECT_PATH:  # a Segment API request: replay tells it apart by its path
            kept["path"] = flask.request.path
        if (key := flask.request.headers.get(IDEMPOTENCY_KEY)) is not None:
            kept["idempotencyKey"] = key
        self.letters.record(
            body=rejected.raw_body,
            status=status,
            code=rejected.error_code or "",
            message=message,
            facts=kept,
        )
