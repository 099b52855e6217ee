"""Dead letters through the data path again: `collector deadletter replay`.

After a fix (an event type added to the allow-list, a limit raised), the
refused requests kept as dead letters are parsed, validated and enriched with
today's settings, exactly as a new request would be, and those that now pass
are stored. One replay runs at a time (a flock, see deadletters.letters): two
would each store every letter.

What a replay may store is decided by the letter's code (rules): only
requests whose client was told they were refused for good. And it never
stores what is already there:
- a letter with an `Idempotency-Key` goes through the idempotency guard as
  its request would, scoped to its write key (`keyId`): a key already stored
  (the client resent it after the fix) stores nothing, a key in flight waits
  for a later replay, and a key the replay stores answers the client's next
  resend with the replay's 201;
- every event is matched by (client.keyId, eventId) against the store, from
  COLLECTOR_IDEMPOTENCY_SECONDS before the oldest letter on (the window the
  service itself deduplicates in), and against what this replay stored: an
  event found is not stored again. An event the client sent without an
  eventId gets one made from the letter's id and its place (UUID5), so that a
  replay that crashed after its write stores nothing twice on the next run;
- each replayed letter's id goes to `replayed.log` after its write.

Replayed events get a new `pingId` and `receivedAt` (the time they are
stored: the readers order events by it), and keep their client (`keyId`
too); a letter carrying an id of today's COLLECTOR_SUPPRESSED_IDS_FILE is
never stored, and its kept `userAgent` goes through today's bot step (COLLECTOR_BOTS), as
a new request's would. Their clock skew is measured against the letter's own `receivedAt`, the
moment the client sent them, not the replay's: a correct clock stays correct.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import flask

from .. import idempotency
from ..errors import CollectorError
from ..ingest.eventtime import parse_time
from ..ingest.facts import RequestFacts, format_received_at
from ..ingest.intake import Accepted, Intake
from ..ingest.parsing import parse_json
from ..ingest.views import created_response
from ..request.record import ENVIRON_KEY as RECORD
from ..request.record import RequestRecord
from ..store import build_writer, reading
from . import letters as deadletters
from .keep import COLLECT_PATH
from .rules import never_replayed

# The namespace of the eventIds made for a letter's events that had none.
EVENT_ID_NAMESPACE = uuid.UUID("6f1d0c3e-8a51-4bb4-9a3c-5d0c2f1e7a90")


@dataclasses.dataclass
class ReplayReport:
    stored: list[tuple[str, str, int]] = dataclasses.field(default_factory=list)  # (id, pingId, events)
    refused: Counter = dataclasses.field(default_factory=Counter)  # code -> letters still refused
    not_replayable: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # (id, why)
    never: Counter = dataclasses.field(default_factory=Counter)  # code -> letters replay never stores
    already: int = 0  # replayed by an earlier run
    already_stored: int = 0  # letters whose request or events were stored by someone else
    duplicates: int = 0  # events not stored because they were already there


@dataclasses.dataclass
class Candidate:
    """A letter that passed today's checks, ready to store."""

    letter: dict[str, Any]
    payload: Any
    accepted: Accepted  # past today's checks; its bots for the letter's kept User-Agent
    events: list[dict[str, Any]]  # accepted.events, each with an eventId
    key_id: str | None


def replay(settings: Any, since: float | None = None, only: str | None = None) -> ReplayReport:
    """Store every dead letter (received at or after `since`; only the letter `only`) passing today's checks, once.

    `only` is the console's replay button: the same run over one letter.

    :raises deadletters.ReplayRunning: another replay is running on this data directory.
    """
    data_dir = Path(settings.data_dir)
    intake = Intake.from_settings(settings)  # today's settings, as a new request would meet them
    with deadletters.replay_lock(data_dir):
        report = ReplayReport()
        candidates = _candidates(data_dir, intake, since, report, only)
        if candidates:
            _store_all(candidates, settings, intake, report)
        return report


def _candidates(
    data_dir: Path, intake: Intake, since: float | None, report: ReplayReport, only: str | None = None
) -> list[Candidate]:
    done = deadletters.replayed_ids(data_dir)
    found = []
    kept = set()
    for letter in deadletters.read(data_dir):
        kept.add(letter["id"])
        if only is not None and letter["id"] != only:
            continue
        if letter["id"] in done:
            report.already += 1
            continue
        if since is not None and _epoch(letter.get("receivedAt")) < since:
            continue
        if never_replayed(letter):
            report.never[letter.get("code")] += 1
            continue
        why = _not_replayable(letter)
        if why:
            report.not_replayable.append((letter["id"], why))
            continue
        client = letter.get("client") or {}
        try:
            payload = parse_json(letter["body"].encode("utf-8"))
            # Today's checks, as a new request meets them: a letter of a person suppressed since, a bot's with
            # COLLECTOR_BOTS=refuse, or one breaking today's plan in refuse mode is never stored.
            accepted = intake.accept(payload, client.get("userAgent"))
        except CollectorError as error:
            report.refused[error.code] += 1
            continue
        events = [_with_event_id(event, letter["id"], index) for index, event in enumerate(accepted.events)]
        found.append(Candidate(letter, payload, accepted, events, client.get("keyId")))
    deadletters.prune_replayed(data_dir, kept)
    return found


def _store_all(candidates: list[Candidate], settings: Any, intake: Intake, report: ReplayReport) -> None:
    wanted = {(candidate.key_id, event["eventId"]) for candidate in candidates for event in candidate.events}
    oldest = min(_epoch(candidate.letter.get("receivedAt")) for candidate in candidates)
    # Files start up to rotate_seconds (and the readers' slack) before their last events.
    since = oldest - settings.idempotency_seconds - settings.rotate_seconds - reading.MERGE_SLACK_SECONDS
    present = reading.stored_event_ids(Path(settings.data_dir), wanted, since)
    context = flask.Flask(__name__)  # a request context for the idempotency state, as a request has
    writer = build_writer(settings)
    retries = idempotency.build(settings)
    try:
        for candidate in candidates:
            with context.test_request_context("/collect/event", method="POST", **_request_of(candidate)):
                try:
                    _store_one(candidate, writer, retries, present, intake, Path(settings.data_dir), report)
                finally:
                    retries.release_unfinished()  # a claim whose letter was not stored
    finally:
        writer.close()
        retries.state.close()


def _store_one(
    candidate: Candidate,
    writer: Any,
    retries: idempotency.Idempotency,
    present: set,
    intake: Intake,
    data_dir: Path,
    report: ReplayReport,
) -> None:
    letter = candidate.letter
    try:
        if retries.replay_or_claim(flask.request, candidate.payload, candidate.key_id) is not None:
            report.already_stored += 1  # the client resent it, and that copy was stored
            deadletters.mark_replayed(data_dir, letter["id"])
            return
        new = retries.new_events(candidate.events, candidate.key_id)
        events = [event for event in new if (candidate.key_id, event["eventId"]) not in present]
        facts = _facts(letter, candidate.key_id)
        lines = intake.lines(events, candidate.accepted.header, facts, candidate.accepted.bots)
        writer.append(lines)
    except CollectorError as error:  # refused again (a key in flight or reused, a size), or storage failed
        report.refused[error.code] += 1
        return
    report.duplicates += len(candidate.events) - len(events)
    if events:
        retries.stored(events, candidate.key_id)
        retries.completed(created_response(facts.ping_id))
        present.update((candidate.key_id, event["eventId"]) for event in events)
        report.stored.append((letter["id"], facts.ping_id, len(events)))
    else:
        report.already_stored += 1
    deadletters.mark_replayed(data_dir, letter["id"])


def _request_of(candidate: Candidate) -> dict[str, Any]:
    """What the idempotency guard reads of a request: its key, and (as the view leaves it) its write key's id."""
    key = candidate.letter.get("idempotencyKey")
    headers = {idempotency.HEADER: key} if isinstance(key, str) else {}
    return {"headers": headers, "environ_overrides": {RECORD: RequestRecord(key_id=candidate.key_id)}}


def _facts(letter: dict[str, Any], key_id: str | None) -> RequestFacts:
    client = letter.get("client") or {}
    return RequestFacts(
        ping_id=str(uuid.uuid4()),
        received_at=format_received_at(time.time()),
        client_ip=client.get("ip"),
        user_agent=client.get("userAgent"),
        key_id=key_id,
        arrived_at=letter.get("receivedAt"),
    )


def _with_event_id(event: Mapping[str, Any], letter_id: str, index: int) -> dict[str, Any]:
    if "eventId" in event:
        return dict(event)
    return {**event, "eventId": str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{letter_id}/{index}"))}


def why_not_replayed(letter: dict[str, Any]) -> str | None:
    """Why a replay would never store `letter` (its code, its body), or None when it goes through today's checks."""
    return never_replayed(letter) or _not_replayable(letter)


def _not_replayable(letter: dict[str, Any]) -> str | None:
    if letter.get("path", COLLECT_PATH) != COLLECT_PATH:
        # Not mapped here: replaying Segment bodies is left for later (docs/segment-api.md).
        return f"a Segment API request ({letter['path']}): replay reads /collect/event bodies only"
    if letter.get("bodyTruncated"):
        return (
            f"its body was cut to the first bytes of {letter.get('bodyBytes')} (COLLECTOR_DEAD_LETTER_MAX_BODY_BYTES)"
        )
    if not isinstance(letter.get("body"), str):
        return "it has no body, or one that is not UTF-8 text"
    return None


def _epoch(received_at: Any) -> float:
    try:
        return parse_time(received_at)
    except (TypeError, ValueError):
        return 0.0
