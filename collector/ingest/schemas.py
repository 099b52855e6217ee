"""The request contract as marshmallow schemas: the one definition of what is valid.

Schemas are built once per app by `build_request_schema`, because two rules
(the allow-list of event types and the most events per request) come from
settings. No I/O here.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from ..errors import (
    INVALID_EVENT_TYPE,
    INVALID_FIELD,
    NOT_AN_OBJECT,
    TOO_MANY_EVENTS,
    UNKNOWN_FIELD,
    CollectorError,
    ErrorCode,
)
from ..settings import is_valid_event_type
from .eventtime import without_leap_second
from .fastpath import Rule, compile_schema

INVALID_EVENT_TYPE_MESSAGE = "invalid event type"
MAX_HEADER_KEYS = 64

# RFC 3339 date-time: the shape is checked here, the calendar by datetime.
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})\Z", re.ASCII
)


def timestamp_problem(value: str) -> str | None:
    shape = _RFC3339.match(value)
    if not shape:
        return "Not an RFC 3339 date-time with an offset, e.g. 2026-01-31T12:00:00.000Z."
    fraction = shape.group(1)
    if fraction and len(fraction) > 7:
        # fromisoformat takes at most 6 fraction digits; more only add precision.
        value = value.replace(fraction, fraction[:7], 1)
    try:
        moment = datetime.fromisoformat(without_leap_second(value).upper())
        if value[17:19] == "60" and not _is_leap_second(moment):
            return "Not a valid calendar date and time."
    except (ValueError, OverflowError):  # OverflowError: before year 1 in UTC
        return "Not a valid calendar date and time."
    return None


def _is_leap_second(moment: datetime) -> bool:
    """RFC 3339 (5.7): a second 60 is a leap second, at 23:59 UTC on the last day of a month."""
    utc = moment.astimezone(UTC)
    last_day = calendar.monthrange(utc.year, utc.month)[1]
    return (utc.day, utc.hour, utc.minute) == (last_day, 23, 59)


def scalar_problem(value: Any) -> str | None:
    if value is not None and not isinstance(value, (str, int, float, bool)):
        return "Must be a string, number, boolean or null."
    return None


def _event_type_field(allowed: frozenset[str]) -> fields.String:
    def problem(value: str) -> str | None:
        if not is_valid_event_type(value) or (allowed and value not in allowed):
            return INVALID_EVENT_TYPE_MESSAGE
        return None

    keys = ("required", "null", "invalid", "invalid_utf8")
    messages: dict[str, str | list[Any] | dict[Any, Any]] = {key: INVALID_EVENT_TYPE_MESSAGE for key in keys}
    return fields.String(required=True, validate=Rule(problem), error_messages=messages)


def _optional_string(max_length: int) -> fields.String:
    return fields.String(validate=validate.Length(min=1, max=max_length))


def build_request_schema(max_events: int, event_types: frozenset[str]) -> Schema:
    """The schema of a whole request body, with the limits from settings baked in."""

    class EventSchema(Schema):
        class Meta:
            unknown = RAISE

        eventType = _event_type_field(event_types)
        eventId = _optional_string(128)
        timestamp = fields.String(validate=Rule(timestamp_problem))
        userId = fields.String(validate=validate.Length(max=256))
        anonymousId = fields.String(validate=validate.Length(max=256))
        sessionId = fields.String(validate=validate.Length(max=256))
        properties = fields.Dict(keys=fields.String())
        context = fields.Dict(keys=fields.String())

    class RequestSchema(Schema):
        class Meta:
            unknown = RAISE

        messageBody = fields.List(
            fields.Nested(EventSchema),
            required=True,
            validate=validate.Length(min=1, max=max_events),
        )
        messageheader = fields.Dict(
            keys=fields.String(),
            values=fields.Raw(allow_none=True, validate=Rule(scalar_problem)),
            validate=validate.Length(max=MAX_HEADER_KEYS),
        )

    return RequestSchema()


class RequestValidator:
    """Validates request bodies: the fast path for valid ones, marshmallow for the rest.

    The fast path is compiled from the schema itself (see `fastpath`), so the
    schema stays the one definition of the contract and of every error message.
    """

    def __init__(self, max_events: int, event_types: frozenset[str]) -> None:
        self.max_events = max_events
        self.schema = build_request_schema(max_events, event_types)
        self.is_valid = compile_schema(self.schema)

    def validate(self, payload: Any) -> dict[str, Any]:
        """The validated request, or a 400 with a message a person can act on.

        :raises CollectorError: `details` holds marshmallow's messages per field.
        """
        if not isinstance(payload, dict):
            raise CollectorError(NOT_AN_OBJECT, "request body must be a JSON object with a messageBody array")
        self.refuse_oversized_batch(payload.get("messageBody"))
        if self.is_valid(payload):
            check_sent_at(payload.get("messageheader"))
            return payload
        try:
            self.schema.load(payload)
        except ValidationError as error:
            messages = error.normalized_messages()
            kind, message = describe_errors(messages)
            raise CollectorError(kind, message, details=messages) from None
        check_sent_at(payload.get("messageheader"))
        # The schemas transform nothing, but marshmallow's result orders keys
        # its own way: the payload is stored as sent, whichever path accepted it.
        return payload

    def refuse_oversized_batch(self, events: Any) -> None:
        """A 50,000-event body is refused before its events are validated one by one.

        Outside the schema (the fast path mirrors only declared fields), with the
        words and details the schema's own batch-size check used to give.
        """
        if isinstance(events, list) and len(events) > self.max_events:
            message = f"Longer than maximum length {self.max_events}."
            raise CollectorError(
                TOO_MANY_EVENTS, f"messageBody: {message}", details={"messageBody": [message]}
            )


def check_sent_at(header: Any) -> None:
    """`messageheader.sentAt`, the client's clock when it sent the request, must be a time.

    It corrects the events' times (see eventtime), so a value that is not one
    is refused rather than ignored. A header key like any other to the schema,
    it is checked here, outside it, where the fast path need not mirror it.
    :raises CollectorError: INVALID_FIELD, naming it.
    """
    sent_at = header.get("sentAt") if isinstance(header, dict) else None
    if sent_at is None:
        return
    problem = timestamp_problem(sent_at) if isinstance(sent_at, str) else "Not a string."
    if problem:
        raise CollectorError(
            INVALID_FIELD, f"messageheader.sentAt: {problem}", details={"messageheader": {"sentAt": [problem]}}
        )


def describe_errors(messages: Mapping[Any, Any]) -> tuple[ErrorCode, str]:
    """The code and one line for the client: the contract's `invalid event type`
    if that was a problem, else the first field at fault and what is wrong with it."""
    problems = list(_flatten(messages, ""))
    if any(text == INVALID_EVENT_TYPE_MESSAGE for _, text in problems):
        return INVALID_EVENT_TYPE, INVALID_EVENT_TYPE_MESSAGE
    path, text = problems[0]
    if text == "Unknown field.":
        return UNKNOWN_FIELD, f"unknown field {path}"
    return INVALID_FIELD, f"{path}: {text}" if path else text


def _flatten(messages: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            if isinstance(key, int):
                child = f"{path}[{key}]"
            elif key == "_schema":
                child = path
            else:
                child = f"{path}.{key}" if path else str(key)
            yield from _flatten(value, child)
    elif isinstance(messages, list):
        for text in messages:
            yield from _flatten(text, path)
    else:
        yield path, str(messages)
