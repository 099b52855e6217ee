"""Dead letters through the data path again: `collector deadletter replay`.

After a fix (an event type added to the allow-list, a limit raised), the
refused requests kept as dead letters are parsed, validated and enriched with
today's settings, exactly as a new request would be, and those that now pass
are stored, each once however often replay runs (see store.deadletters).
They get a new `pingId` and `receivedAt` (the time they are stored: the
readers order events by it), and keep their client.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from ..errors import CollectorError
from ..store import build_writer, deadletters
from .enrich import RequestFacts, format_received_at, stored_lines
from .eventtime import parse_time, rules_for
from .parsing import parse_json
from .schemas import RequestValidator


@dataclasses.dataclass
class ReplayReport:
    stored: list[tuple[str, str, int]] = dataclasses.field(default_factory=list)  # (id, pingId, events)
    refused: Counter = dataclasses.field(default_factory=Counter)  # code -> dead letters
    not_replayable: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # (id, why)
    already: int = 0


def replay(settings: Any, since: float | None = None) -> ReplayReport:
    """Store every dead letter (received at or after `since`) that passes today's checks, once."""
    report = ReplayReport()
    data_dir = Path(settings.data_dir)
    done = deadletters.replayed_ids(data_dir)
    validator = RequestValidator(settings.max_events, settings.event_types)
    writer = build_writer(settings)
    try:
        for letter in deadletters.read(data_dir):
            if letter["id"] in done:
                report.already += 1
                continue
            if since is not None and _epoch(letter.get("receivedAt")) < since:
                continue
            why = _not_replayable(letter)
            if why:
                report.not_replayable.append((letter["id"], why))
                continue
            try:
                ping_id, count = _store(letter, validator, writer, settings)
            except CollectorError as error:
                report.refused[error.code] += 1
                continue
            deadletters.mark_replayed(data_dir, letter["id"])
            done.add(letter["id"])
            report.stored.append((letter["id"], ping_id, count))
    finally:
        writer.close()
    return report


def _store(letter: dict[str, Any], validator: RequestValidator, writer: Any, settings: Any) -> tuple[str, int]:
    data = validator.validate(parse_json(letter["body"].encode("utf-8")))
    client = letter.get("client") or {}
    facts = RequestFacts(
        ping_id=str(uuid.uuid4()),
        received_at=format_received_at(time.time()),
        client_ip=client.get("ip"),
        user_agent=client.get("userAgent"),
    )
    lines = stored_lines(
        data["messageBody"], data.get("messageheader"), facts, settings.max_event_bytes, rules_for(settings)
    )
    writer.append(lines)
    return facts.ping_id, len(lines)


def _not_replayable(letter: dict[str, Any]) -> str | None:
    if letter.get("bodyTruncated"):
        return f"its body was cut to the first bytes of {letter.get('bodyBytes')} (COLLECTOR_DEAD_LETTER_MAX_BODY_BYTES)"
    if not isinstance(letter.get("body"), str):
        return "it has no body, or one that is not UTF-8 text"
    return None


def _epoch(received_at: Any) -> float:
    try:
        return parse_time(received_at)
    except (TypeError, ValueError):
        return 0.0
