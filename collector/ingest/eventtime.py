"""Event time: correcting each event's `timestamp` for the client's clock skew, and flagging odd times.

A client's clock is often wrong (a phone set by hand, a VM that drifted). When
the request says when the client sent it (`messageheader.sentAt`, the
client's clock at that moment), the skew is `receivedAt - sentAt`, and each
event's time is corrected by it, as Segment does: `timestamp + (receivedAt -
sentAt)`. Network delay also makes `receivedAt` later than `sentAt`, so a skew
is applied only past COLLECTOR_CLOCK_SKEW_SECONDS. A corrected event keeps what
the client said (`originalTimestamp`) and the skew applied (`clockSkewSeconds`).

Events still more than an hour in the future after correction, or older than
COLLECTOR_MAX_EVENT_AGE_DAYS, are stored all the same (nothing is thrown away)
with `timestampFlag` `future` or `old`, so that an analysis can leave them out.
A correction that would take a time out of years 1-9999, which RFC 3339
cannot write, is not applied: the event keeps its time as sent, flagged.

A leap second (`23:59:60` UTC, valid RFC 3339) is read as the last millisecond
of its minute, `23:59:59.999`, and stored so (its original kept), since most
readers of the store (Python, JavaScript) have no second 60.

Pure functions: no clock, no request.
"""

from __future__ import annotations

import dataclasses
import functools
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..settings import Settings

FUTURE_SECONDS = 3600.0
# The first moment of year 1 and of year 10000, in epoch seconds: RFC 3339 writes the times between.
EARLIEST = -62135596800.0
END = 253402300800.0
LEAP_SECOND_AS = "59.999"


@dataclasses.dataclass(frozen=True)
class TimeRules:
    skew_threshold_seconds: float
    max_age_seconds: float
    future_seconds: float = FUTURE_SECONDS


@functools.lru_cache(maxsize=4)
def rules_for(settings: Settings) -> TimeRules:
    return TimeRules(
        skew_threshold_seconds=settings.clock_skew_seconds, max_age_seconds=settings.max_event_age_days * 86400.0
    )


def without_leap_second(value: str) -> str:
    """An RFC 3339 date-time (of the schemas' shape) with a second 60 read as 59.999, its fraction dropped."""
    if value[17:19] != "60":
        return value
    rest = value[19:]
    if rest.startswith("."):
        rest = rest[1:].lstrip("0123456789")
    return value[:17] + LEAP_SECOND_AS + rest


def parse_time(value: str) -> float:
    """Epoch seconds of an RFC 3339 date-time the schemas accepted (at most 9 fraction digits)."""
    text = without_leap_second(value).upper().replace(" ", "T")
    if "." in text:
        head, _, rest = text.partition(".")
        digits = len(rest) - len(rest.lstrip("0123456789"))
        text = head + "." + rest[: min(digits, 6)] + rest[digits:]
    return datetime.fromisoformat(text).timestamp()


def format_time(epoch: float) -> str:
    """RFC 3339, UTC, milliseconds, `Z`: the form of `receivedAt`."""
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def client_skew(header: Any, received: float, rules: TimeRules) -> float | None:
    """`receivedAt - sentAt` when the request has a `sentAt` and the skew is past the threshold."""
    sent_at = header.get("sentAt") if isinstance(header, dict) else None
    if not isinstance(sent_at, str):
        return None
    skew = received - parse_time(sent_at)
    return skew if abs(skew) > rules.skew_threshold_seconds else None


def time_fields(event: dict[str, Any], skew: float | None, received: float, rules: TimeRules) -> dict[str, Any] | None:
    """The fields to change in `event` for its time, or None when it stays as sent."""
    timestamp = event.get("timestamp")
    if not isinstance(timestamp, str):
        return None
    when = parse_time(timestamp)
    fields: dict[str, Any] = {}
    if skew is not None:
        when += skew
        if EARLIEST <= when < END:
            fields = {
                "timestamp": format_time(when),
                "originalTimestamp": timestamp,
                "clockSkewSeconds": round(skew, 3),
            }
    elif timestamp[17:19] == "60":
        fields = {"timestamp": format_time(when), "originalTimestamp": timestamp}
    if when > received + rules.future_seconds:
        fields["timestampFlag"] = "future"
    elif when < received - rules.max_age_seconds:
        fields["timestampFlag"] = "old"
    return fields or None



@functools.lru_cache(maxsize=4)
def _bounds(second: int, rules: TimeRules) -> tuple[str, str]:
    """The oldest and latest event times that need no parse, for requests received in `second`.

    Whole seconds, one further inwards than the exact bounds: formatted once a
    second rather than for every request.
    """
    return format_time(second + 2 - rules.max_age_seconds), format_time(second - 1 + rules.future_seconds)


class RequestTime:
    """The time rules applied to the events of one request, with what they share computed once."""

    def __init__(self, header: Any, received_at: str, rules: TimeRules) -> None:
        self.rules = rules
        self.received = parse_time(received_at)
        self.skew = client_skew(header, self.received, rules)
        # Fixed-width UTC times (`2026-12-03T12:00:00.000Z`) sort as their
        # moments do: with no skew to apply, an event's time in that form is
        # judged by comparing it with two strings, not by parsing it. The
        # bounds are rounded inwards, so a time near one is parsed and judged exactly.
        self.oldest, self.latest = _bounds(int(self.received), rules)

    def fields(self, event: dict[str, Any]) -> dict[str, Any] | None:
        """The fields to change in `event` for its time, or None when it stays as sent."""
        timestamp = event.get("timestamp")
        if type(timestamp) is not str:
            return None
        if (
            self.skew is None
            and len(timestamp) == 24
            and timestamp[23] == "Z"
            and timestamp[10] == "T"
            and timestamp[17] != "6"  # a leap second is stored normalised
            and self.oldest <= timestamp <= self.latest
        ):
            return None
        return time_fields(event, self.skew, self.received, self.rules)
