"""Validated events + facts about the request -> the lines that are stored.

Pure functions: no request, no clock, no I/O, so each is tested alone.
A stored line is the event as sent (after validation), plus `eventId` (the
client's, or a new UUID4), `pingId`, `receivedAt`, `messageheader` (when sent)
and `client` (`ip`, `userAgent`, `keyId` when write keys are required, and
`bot` for a known bot's event: see botcheck.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from .. import jsontext
from ..bots import Bot
from ..errors import EVENT_TOO_LARGE, CollectorError
from .botcheck import RequestBots
from .eventtime import RequestTime, TimeRules
from .facts import RequestFacts


def stored_lines(
    events: Iterable[Mapping[str, Any]],
    header: Mapping[str, Any] | None,
    facts: RequestFacts,
    max_event_bytes: int,
    time_rules: TimeRules | None = None,
    bots: RequestBots | None = None,
) -> list[bytes]:
    """Each event as its stored line: its fields as sent (its time corrected and
    flagged by `time_rules`, see eventtime), `eventId` when it had none, then
    the fields the server adds, the same for every event of a request.

    The added fields are encoded once per request and joined to each event's
    own encoding (events cannot hold those keys: the schema refuses unknown
    keys), so a batch does not copy and re-encode them per event. An event of
    a bot (`bots`) gets them with `client.bot`, encoded once per bot.
    :raises CollectorError: a 413 naming the first event larger than the limit as
        stored, or a 400 if an event is nested too deeply to store.
    """
    added: dict[str, Any] = {"pingId": facts.ping_id, "receivedAt": facts.received_at}
    if header is not None:
        added["messageheader"] = header
    added["client"] = {"ip": facts.client_ip, "userAgent": facts.user_agent}
    if facts.key_id is not None:
        added["client"]["keyId"] = facts.key_id
    tails = Tails(added)
    # One tail for every event (a person's, or the agent's bot), unless some say webdriver.
    tail = tails.of(bots.agent if bots is not None else None)
    per_event = bots if bots is not None and bots.varies else None
    lines = []
    times: RequestTime | None = None
    for index, event in enumerate(events):
        if time_rules is not None and "timestamp" in event:
            if times is None:  # once per request, and only for events that carry a time
                times = RequestTime(header, facts.arrived_at or facts.received_at, time_rules)
            changed = times.fields(event)  # type: ignore[arg-type]
            if changed:
                event = {**event, **changed}
        head = encode_record(event, index)[:-2]  # '{"eventType":...' without '}\n'
        if "eventId" not in event:
            head += b',"eventId":"' + str(uuid.uuid4()).encode() + b'"'
        line = head + (tail if per_event is None else tails.of(per_event.of(event)))
        if len(line) - 1 - _note_bytes(event) > max_event_bytes:
            raise CollectorError(
                EVENT_TOO_LARGE,
                f"event {index} is {len(line) - 1} bytes as stored; "
                f"the limit is {max_event_bytes} bytes",
                details={"messageBody": {str(index): ["Event too large."]}},
            )
        lines.append(line)
    return lines


def _note_bytes(event: Mapping[str, Any]) -> int:
    """The bytes of the tracking plan's note on a flagged event (`"planViolations":[...],`), which the limit leaves out.

    Flag mode refuses nothing: an event within COLLECTOR_MAX_EVENT_BYTES as sent
    (with what the server adds) is stored, flagged, even when the note takes its
    line past the limit (by at most 10 paths and messages, see collector/plan).
    """
    if "planViolations" not in event:
        return 0
    return len(jsontext.dumps_line({"planViolations": event["planViolations"]})) - 2  # '{' and '}\n' are not in it


class Tails:
    """The fields the server adds, encoded as the end of a line (',"pingId":...}'), once per bot of the request."""

    def __init__(self, added: dict[str, Any]) -> None:
        self.added = added
        self.person = b"," + encode_record(added)[1:]
        self.bots: dict[Bot, bytes] = {}

    def of(self, bot: Bot | None) -> bytes:
        if bot is None:
            return self.person
        tail = self.bots.get(bot)
        if tail is None:
            with_bot = {**self.added, "client": {**self.added["client"], "bot": bot.as_json()}}
            tail = self.bots[bot] = b"," + encode_record(with_bot)[1:]
        return tail


def encode_record(record: Mapping[str, Any], index: int | None = None) -> bytes:
    """One JSON object as a line (see `jsontext.dumps_line`); `index` names the event in an error.

    :raises CollectorError: a 400 if the record is nested too deeply to store.
    """
    try:
        return jsontext.dumps_line(record)
    except jsontext.InvalidJSON as error:
        name = "event" if index is None else f"event {index}"
        raise CollectorError(error.kind, f"{name} {error.reason}") from None
