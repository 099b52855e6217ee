"""Segment's HTTP tracking API mapped onto the collector's events (docs/segment-api.md).

A Segment request (`/v1/batch`, or one call: `/v1/track`, `/v1/page`, ...)
becomes two things: the core of each message in the collector's own request
shape (`{"messageBody": [...], "messageheader": {"sentAt": ...}}`), which the
collector's validator checks with its usual rules and codes, and the message
itself as it is stored: every field as sent, `messageId` renamed `eventId`,
`eventType` added (the event's name for `track`, the call type otherwise).

Pure functions: no request, no clock, no I/O.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ..errors import EVENT_TOO_LARGE, INVALID_EVENT_TYPE, INVALID_FIELD, NOT_AN_OBJECT, CollectorError
from ..settings import is_valid_event_type
from .enrich import encode_record

CALLS = ("track", "page", "screen", "identify", "group", "alias")
# The browser's SDK (@segment/analytics-next) posts one call to /v1/<first letter of its type>
# and a batch to /v1/b; the server SDKs use the long paths.
SHORT_CALLS = {call[0]: call for call in CALLS}
BATCH_PATHS = ("/v1/batch", "/v1/b")
PATHS = frozenset({*BATCH_PATHS, *(f"/v1/{call}" for call in (*CALLS, *SHORT_CALLS))})
# Segment's own limits (its HTTP API's docs; the SDKs drop a message over 32 KB before sending it).
MAX_MESSAGE_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024
# The fields the collector's own event shape types: checked by its schema, and, as Segment
# reads them, absent when null (the Python SDK sends `"anonymousId": null` with a userId).
CORE_FIELDS = ("timestamp", "userId", "anonymousId", "properties", "context")
# Fields the stored line gets from the collector: a message holding one is refused, never overwritten.
RESERVED_FIELDS = frozenset(
    {"eventType", "eventId", "pingId", "receivedAt", "messageheader", "client",
     "originalTimestamp", "clockSkewSeconds", "timestampFlag", "planViolations"}
)
REQUIRED_BY_CALL = {"group": "groupId", "alias": "previousId"}
MISSING = "Missing data for required field."


@dataclasses.dataclass(frozen=True)
class SegmentRequest:
    """One Segment request, mapped: the core to validate and the events to store."""

    core: dict[str, Any]
    events: list[dict[str, Any]]


def messages_of(payload: Any, call: str | None) -> tuple[list[Any], Any]:
    """The messages of a request body and its `sentAt`; `call` is the path's (None for /v1/batch).

    :raises CollectorError: a 400 for a body that is not a batch (or one call) of the right shape.
    """
    if not isinstance(payload, dict):
        raise CollectorError(NOT_AN_OBJECT, "request body must be a JSON object")
    if call is None:
        batch = payload.get("batch")
        if not isinstance(batch, list):
            raise _invalid("batch", MISSING if batch is None else "Not a list.")
        return batch, payload.get("sentAt")
    message = {key: value for key, value in payload.items() if key != "sentAt"}
    if message.setdefault("type", call) != call:
        raise _invalid("type", f"Must be {call} on /v1/{call}.")
    return [message], payload.get("sentAt")


def map_request(payload: Any, call: str | None = None) -> SegmentRequest:
    """The core and the stored events of a Segment request body.

    :raises CollectorError: 400 for a malformed message, 413 for one over 32 KB.
    """
    messages, sent_at = messages_of(payload, call)
    cores, events = [], []
    for index, message in enumerate(messages):
        where = "batch" if call is None else None
        check_message(message, f"{where}[{index}]" if where else "")
        cores.append(core_of(message))
        events.append(stored_event(message))
    core: dict[str, Any] = {"messageBody": cores}
    if sent_at is not None:
        core["messageheader"] = {"sentAt": sent_at}
    return SegmentRequest(core, events)


def event_type_of(message: dict[str, Any]) -> Any:
    return message.get("event") if message.get("type") == "track" else message.get("type")


def core_of(message: dict[str, Any]) -> dict[str, Any]:
    """What the collector's schema checks of a message, in its own event shape."""
    core = {field: message[field] for field in CORE_FIELDS if message.get(field) is not None}
    core["eventType"] = event_type_of(message)
    if "messageId" in message:
        core["eventId"] = message["messageId"]
    return core


def stored_event(message: dict[str, Any]) -> dict[str, Any]:
    """The message as stored: `eventType` and `eventId` first, then every field as sent.

    Left out: `messageId` (it is `eventId`), a `writeKey` (a key is never stored) and the
    core fields sent as null.
    """
    event: dict[str, Any] = {"eventType": event_type_of(message)}
    if "messageId" in message:
        event["eventId"] = message["messageId"]
    for key, value in message.items():
        if key in ("messageId", "writeKey") or (value is None and key in CORE_FIELDS):
            continue
        event[key] = value
    return event


def check_message(message: Any, where: str) -> None:
    """The rules of Segment's own fields (the core is the collector schema's to check).

    :raises CollectorError: naming the message's first field at fault.
    """
    if not isinstance(message, dict):
        raise _invalid(where, "Not an object.")
    prefix = f"{where}." if where else ""
    call = message.get("type")
    if call not in CALLS:
        raise _invalid(prefix + "type", "Not one of " + ", ".join(CALLS) + ".")
    if call == "track" and not (isinstance(message.get("event"), str) and is_valid_event_type(message["event"])):
        raise CollectorError(INVALID_EVENT_TYPE, f"{prefix}event: invalid event type")
    for field in sorted(RESERVED_FIELDS & message.keys()):
        raise _invalid(prefix + field, "Set by the collector; not accepted from a client.")
    required = REQUIRED_BY_CALL.get(call)
    if required and not isinstance(message.get(required), (str, int)):
        raise _invalid(prefix + required, MISSING if message.get(required) is None else "Not a string.")
    for field in ("traits", "integrations"):
        if field in message and not isinstance(message[field], dict):
            raise _invalid(prefix + field, "Not an object.")
    if len(encode_record(message)) - 1 > MAX_MESSAGE_BYTES:  # encode_record: a 400 if nested too deeply
        raise CollectorError(
            EVENT_TOO_LARGE, f"{where or 'the message'} is over Segment's {MAX_MESSAGE_BYTES} bytes per message"
        )


def segment_error(error: CollectorError, single: bool) -> CollectorError:
    """The validator's error in Segment's words: `batch[0].messageId` for `messageBody[0].eventId`."""
    message = error.message.replace(".eventId", ".messageId").replace("messageheader.sentAt", "sentAt")
    message = message.replace("messageBody[0].", "") if single else message.replace("messageBody", "batch")
    if error.kind == INVALID_EVENT_TYPE and single:
        message = "event: invalid event type"
    return CollectorError(error.kind, message, details=segment_details(error.details, single), headers=error.headers)


def segment_details(details: Any, single: bool) -> Any:
    """The validator's `details` with Segment's names: `batch` (or, for one call, the message itself), `messageId`."""
    if not isinstance(details, dict):
        return details
    details = dict(details)
    renamed = {"batch": details.pop("messageBody")} if "messageBody" in details else {}
    if "messageheader" in details:
        renamed["sentAt"] = details.pop("messageheader").get("sentAt")
    messages = renamed.get("batch")
    if isinstance(messages, dict):
        renamed["batch"] = {
            index: {("messageId" if key == "eventId" else key): value for key, value in problems.items()}
            if isinstance(problems, dict) else problems
            for index, problems in messages.items()
        }
        if single and set(renamed["batch"]) <= {"0", 0}:
            return {**details, **next(iter(renamed["batch"].values()), {})}
    return {**details, **renamed}


def _invalid(path: str, problem: str) -> CollectorError:
    return CollectorError(INVALID_FIELD, f"{path}: {problem}" if path else problem)

