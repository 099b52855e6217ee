"""Retries that store nothing twice: the Idempotency-Key header, and per-event dedupe.

A request with `Idempotency-Key` claims its key before it stores anything:
- a key already completed within the window, with the same body, answers the
  very same 201 (the original pingId) and stores nothing;
- the same key with another body is a 422;
- a key another copy holds right now (claimed, not yet completed) is a 409
  with Retry-After: never a second store;
- a claimed request that fails (4xx, 503) gives its key back, so a retry may
  store it.
The key is completed only after the events are written, so a crash in
between leaves a claim that expires (PENDING_SECONDS) and a retry then stores
the events again: a crash errs towards a duplicate, never a loss.

With write keys, both belong to the write key that sent them (`scope`, its
key id), as payment APIs scope idempotency keys per account: another key's
holder neither gets nor probes them (201 vs 422), and a public page's key
cannot store an eventId first to have the back end's real event dropped.
Without write keys there is one scope, as before.

With COLLECTOR_DEDUPE=event, an event whose own `eventId` was stored within
the window is not stored again (the request still gets its 201). Ids are
recorded after the write, for the same reason; two copies racing each other
may both store, so per-event dedupe is at-least-once under a race and exact
otherwise, while Idempotency-Key is exact under races too.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

import flask

from .. import jsontext
from ..errors import (
    IDEMPOTENCY_KEY_IN_FLIGHT,
    IDEMPOTENCY_KEY_REUSED,
    IDEMPOTENCY_STATE_BUSY,
    INVALID_IDEMPOTENCY_KEY,
    CollectorError,
)
from ..ops.metrics import DUPLICATE_EVENTS, IDEMPOTENT_REPLAYS
from ..request import record
from .state import PENDING_SECONDS, STATE_ERRORS, State, StateBusy

logger = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
_VISIBLE_ASCII = re.compile(r"[!-~]{1,255}")


def scoped(scope: str | None, name: str) -> str:
    """`name` (an Idempotency-Key or an eventId) as remembered for the write key id `scope`.

    Key ids have a fixed length and an Idempotency-Key holds no space, so no
    scoped key equals another key's, nor an unscoped one.
    """
    return name if scope is None else f"{scope} {name}"


class Idempotency:
    """The service's retry handling, over one `State`."""

    def __init__(self, state: State, dedupe_events: bool) -> None:
        self.state = state
        self.dedupe_events = dedupe_events
        self._failing = False

    def replay_or_claim(self, request: flask.Request, payload: Any, scope: str | None = None) -> flask.Response | None:
        """The stored 201 of a completed key, or None once this request holds its key (or has none).

        `scope` is the request's write key id (None without write keys).

        :raises CollectorError: 400 for a malformed key, 422 for a key reused
            with another body, 409 while another copy holds it.
        """
        key = request.headers.get(HEADER)
        if key is None:
            return None
        if not _VISIBLE_ASCII.fullmatch(key):
            raise CollectorError(INVALID_IDEMPOTENCY_KEY, f"{HEADER} must be 1-255 visible ASCII characters")
        key = scoped(scope, key)
        fingerprint = hashlib.sha256(jsontext.dumps_line(payload)).hexdigest()
        try:
            found = self.state.claim(key, fingerprint)
        except StateBusy as error:
            # The state is there but locked: another copy may be storing this
            # very key. Storing without the claim could store it twice, and a
            # longer wait would outlast the proxy, whose client then resends a
            # request stored after all. So: nothing stored, and a prompt 503.
            raise CollectorError(
                IDEMPOTENCY_STATE_BUSY, f"requests with an {HEADER} cannot be checked now; nothing was kept, resend"
            ) from error
        except STATE_ERRORS as error:
            self._state_failed(error)
            return None  # at-least-once while the state is away: never refuse an event for it
        self._state_answers()
        if found.outcome == "claimed":
            record.current().idempotency_claim = (key, fingerprint)
            return None
        if found.fingerprint != fingerprint:
            raise CollectorError(IDEMPOTENCY_KEY_REUSED, f"{HEADER} was used with another request body")
        if found.outcome == "pending":
            raise CollectorError(
                IDEMPOTENCY_KEY_IN_FLIGHT, f"a request with this {HEADER} is being stored; resend it shortly"
            )
        IDEMPOTENT_REPLAYS.inc()
        return flask.Response(found.response, status=201, mimetype="application/json")

    def completed(self, response: flask.Response) -> None:
        """The claimed key's request was stored: later copies get this very response."""
        claimed = _take_claim()
        if claimed is not None:
            key, fingerprint = claimed
            try:
                self.state.complete(key, fingerprint, response.get_data())
            except STATE_ERRORS as error:
                self._state_failed(error)

    def release_unfinished(self, _error: BaseException | None = None) -> None:
        """teardown_request: a claim whose request did not store gives its key back."""
        claimed = _take_claim()
        if claimed is not None:
            try:
                self.state.release(claimed[0])
            except Exception as error:  # noqa: BLE001 - the claim then expires after PENDING_SECONDS
                logger.warning("could not release %s (%s); it expires in %ss", HEADER, error, PENDING_SECONDS)

    def new_events(self, events: Sequence[Mapping[str, Any]], scope: str | None = None) -> list[Mapping[str, Any]]:
        """`events` without those whose own eventId was stored within the window, by the same write key."""
        if not self.dedupe_events:
            return list(events)
        ids = {scoped(scope, event["eventId"]): event["eventId"] for event in events if "eventId" in event}
        try:
            seen = {ids[found] for found in self.state.stored_events(list(ids))}
        except STATE_ERRORS as error:
            self._state_failed(error)
            return list(events)
        if not seen:
            return list(events)
        kept = [event for event in events if event.get("eventId") not in seen]
        logger.info("stored %d events, dropped %d already stored", len(kept), len(events) - len(kept))
        DUPLICATE_EVENTS.inc(len(events) - len(kept))
        return kept

    def stored(self, events: Sequence[Mapping[str, Any]], scope: str | None = None) -> None:
        """Record the stored events' own ids (after the write: see the module doc)."""
        if self.dedupe_events:
            try:
                ids = [scoped(scope, event["eventId"]) for event in events if "eventId" in event]
                self.state.record_events(ids)
            except STATE_ERRORS as error:
                self._state_failed(error)

    def _state_failed(self, error: Exception) -> None:
        if not self._failing:  # once per outage, not once per request
            self._failing = True
            logger.warning(
                "idempotency state failed (%s: %s); storing at least once until it answers", type(error).__name__, error
            )

    def _state_answers(self) -> None:
        if self._failing:
            self._failing = False
            logger.warning("idempotency state answers again")


def _take_claim() -> tuple[str, str] | None:
    """The claim the current request holds, which it then no longer holds (completed or released once)."""
    held = record.current()
    claimed, held.idempotency_claim = held.idempotency_claim, None
    return claimed
