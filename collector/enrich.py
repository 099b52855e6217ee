"""Validated events + facts about the request -> the lines that are stored.

Pure functions: no request, no clock, no I/O, so each is tested alone.
A stored line is the event as sent (after validation), plus `eventId` (the
client's, or a new UUID4), `pingId`, `receivedAt`, `messageheader` (when sent)
and `client` (`ip`, `userAgent`).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import time
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from .errors import BadRequest, PayloadTooLarge


@dataclasses.dataclass(frozen=True)
class RequestFacts:
    """What the server knows about a request besides its body."""

    ping_id: str
    received_at: str
    client_ip: str | None
    user_agent: str | None


def format_received_at(now: float) -> str:
    """RFC 3339, UTC, milliseconds, `Z`, from epoch seconds: 2026-11-26T04:56:52.123Z."""
    second = int(now)
    return _second_prefix(second) + f"{int((now - second) * 1000):03d}Z"


@functools.lru_cache(maxsize=4)
def _second_prefix(second: int) -> str:
    # strftime is a measurable share of a small request; a second has many requests.
    return time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(second))


def build_records(
    events: Iterable[Mapping[str, Any]],
    header: Mapping[str, Any] | None,
    facts: RequestFacts,
) -> list[dict[str, Any]]:
    client = {"ip": facts.client_ip, "userAgent": facts.user_agent}
    records = []
    for event in events:
        record = dict(event)
        if "eventId" not in record:
            record["eventId"] = str(uuid.uuid4())
        record["pingId"] = facts.ping_id
        record["receivedAt"] = facts.received_at
        if header is not None:
            record["messageheader"] = header
        record["client"] = client
        records.append(record)
    return records


def encode_record(record: Mapping[str, Any]) -> bytes:
    """One JSON line, UTF-8, ending in exactly one newline.

    JSON strings escape every control character, so the only newline in the
    line is the last byte: a line can never be split or merged by a reader.
    :raises BadRequest: if the record is nested too deeply to store.
    """
    try:
        return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)
    except orjson.JSONEncodeError:
        # orjson stops at integers beyond 64 bits and nesting past 254 levels;
        # the standard library stores both exactly as they were sent.
        pass
    try:
        text = json.dumps(record, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except RecursionError:
        raise BadRequest("event is nested too deeply to store") from None
    return text.encode("utf-8") + b"\n"


def encode_records(records: Iterable[Mapping[str, Any]], max_event_bytes: int) -> list[bytes]:
    """:raises PayloadTooLarge: naming the first event larger than the limit as stored."""
    lines = []
    for index, record in enumerate(records):
        line = encode_record(record)
        if len(line) - 1 > max_event_bytes:
            raise PayloadTooLarge(
                f"event {index} is {len(line) - 1} bytes as stored; "
                f"the limit is {max_event_bytes} bytes",
                details={"messageBody": {str(index): ["Event too large."]}},
            )
        lines.append(line)
    return lines
