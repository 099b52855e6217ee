"""Rejected requests kept as dead letters (COLLECTOR_DEAD_LETTER=on), after the answer is made.

Every rejection of POST /collect/event (and of the /v1/ routes) is kept, whatever raised it, with the
body as the collector read it (inflated, if it came gzipped) and the error's
`details` (a tracking-plan refusal's JSON pointers), except the rate-limited
and bot-refused ones: those are counted in the metrics and never stored, so
that a client hammering the service (a crawler with COLLECTOR_BOTS=refuse)
cannot fill the disk with them; nor the suppressed ones
(COLLECTOR_SUPPRESSED_IDS_FILE), whose body holds the events of a person who
asked not to be collected.

Two refusals at the door are kept without a body, in the bodiless share of
the cap (see letters.py), so that a flood of them pushes out only their like:
a 401 (a missing or refused write key: which key id was tried, never the key,
and never the body, where Segment's SDKs put a key) and a refused CORS
preflight (its origin and what it asked for), which the CORS layer answers
before Flask (`preflight_keeper`). They are what a web team debugs first, and
nothing else shows their detail.
The client is kept as a stored event keeps it (COLLECTOR_CLIENT_IP applies,
and `keyId` with write keys), and so is the request's `Idempotency-Key`: a
replay stores the letter under them, as the request would have been stored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import flask
import orjson

from ..errors import CORS_PREFLIGHT_REFUSED, SUPPRESSED
from ..idempotency import HEADER as IDEMPOTENCY_KEY
from ..request import record

if TYPE_CHECKING:
    from ..ingest import Intake
    from ..ingest.cors import RefusedPreflight
    from .letters import DeadLetters

# 403 (bot_refused, suppressed), 429 (rate limits).
NOT_KEPT = frozenset({403, 429})
# Kept without their body (which may carry a key: Segment's writeKey), in the bodiless share of the cap.
BODILESS = frozenset({401})
# The most entries of an error's `details` kept (one per event and path at most, for the larger errors).
MAX_DETAILS = 100
# Never kept whatever becomes of its status above: a letter holds the raw body, and so would keep the very
# events of a person who asked not to be collected (COLLECTOR_SUPPRESSED_IDS_FILE).
NEVER_KEPT_CODES = frozenset({SUPPRESSED.code})
COLLECT_PATH = "/collect/event"
COLLECT_BLUEPRINT = "collect"  # /collect/event and the Segment-compatible /v1/ routes


def keeper(letters: DeadLetters | None, intake: Intake) -> Callable[[flask.Response], flask.Response] | None:
    """The after_request that keeps rejected requests in `letters`; None without them (COLLECTOR_DEAD_LETTER=off)."""
    return KeepRejected(letters, intake).keep_rejected if letters is not None else None


def preflight_keeper(letters: DeadLetters | None, intake: Intake) -> Callable[[dict, RefusedPreflight], None] | None:
    """What the CORS layer calls with a refused preflight (below Flask); None without dead letters."""
    return KeepRejected(letters, intake).keep_preflight if letters is not None else None


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
            answer = orjson.loads(response.get_data())
        except orjson.JSONDecodeError:
            answer = None
        answer = answer if isinstance(answer, dict) else {}
        rejected = record.current()
        kept = self.request_facts(flask.request)
        if (key := flask.request.headers.get(IDEMPOTENCY_KEY)) is not None:
            kept["idempotencyKey"] = key
        if answer.get("details") is not None:
            kept["details"] = _bounded(answer["details"])
        code, message = rejected.error_code or "", str(answer.get("message", ""))
        if status in BODILESS:
            if rejected.tried_key_id is not None:
                kept["triedKeyId"] = rejected.tried_key_id
            self.letters.record_bodiless(status=status, code=code, message=message, facts=kept)
            return
        self.letters.record(body=rejected.raw_body, status=status, code=code, message=message, facts=kept)

    def keep_preflight(self, environ: dict, refused: RefusedPreflight) -> None:
        """Keep a preflight the CORS layer refused, with its origin and what it asked for."""
        kept = self.request_facts(flask.Request(environ))
        kept["preflight"] = {"origin": refused.origin, "method": refused.method, "headers": refused.headers}
        self.letters.record_bodiless(status=204, code=CORS_PREFLIGHT_REFUSED.code, message=refused.message, facts=kept)

    def request_facts(self, request: flask.Request) -> dict[str, Any]:
        """The pingId, client (as a stored event keeps it) and, for a Segment route, the path of `request`."""
        facts = self.intake.facts(request)
        client = {"ip": facts.client_ip, "userAgent": facts.user_agent}
        if facts.key_id is not None:
            client["keyId"] = facts.key_id
        kept: dict[str, Any] = {"pingId": facts.ping_id, "contentType": request.content_type, "client": client}
        if request.path != COLLECT_PATH:  # a Segment API request: replay tells it apart by its path
            kept["path"] = request.path
        return kept


def _bounded(details: Any) -> Any:
    """An error's details, at most MAX_DETAILS entries of its outer list or object (the letter's size is capped)."""
    if isinstance(details, list):
        return details[:MAX_DETAILS]
    if isinstance(details, dict) and len(details) > MAX_DETAILS:
        return dict(list(details.items())[:MAX_DETAILS])
    return details
