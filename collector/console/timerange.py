"""A time range of the console's API (`from`, `to`): instants, and the series' window within the counts kept.

The counts are kept by the minute for 25 hours and by the hour for 169 (a
day and a week, with an hour of slack: index.py), so a range of a day or less
is answered by the minute if it starts within the last 25 hours, a longer one
(at most 7 days) by the hour if it starts within the last 169. The slack also
forgives a browser whose clock is a little off the server's, as does `to`
being up to an hour ahead of now.
"""

from __future__ import annotations

import datetime
from typing import NoReturn

from ..errors import INVALID_QUERY, CollectorError
from .index import HOUR_BUCKETS, MINUTE_BUCKETS

DAY = 86_400
WEEK = 7 * DAY
FUTURE_SLACK = 3600


def instant(name: str, raw: str) -> float:
    """Unix seconds (`1796000000`) or ISO 8601 with its zone (`2026-11-30T01:33:20Z`, `...+01:00`).

    :raises CollectorError: invalid_query, naming the parameter and both forms.
    """
    if raw.isascii() and raw.isdigit():
        return float(raw)
    try:
        parsed = datetime.datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        _refuse(f"query parameter {name} must be Unix seconds or ISO 8601 with a zone "
                f"(2026-11-30T01:33:20Z); got {raw!r}")
    return parsed.timestamp()


def series_window(since: float, until: float, now: float) -> tuple[int, int, float]:
    """(minutes, step_seconds, until) for StoreIndex.series: the buckets from the one holding `since`
    to the one holding `until`, by the minute for a day or less, else by the hour.

    :raises CollectorError: invalid_query for a range the kept counts cannot answer, saying which bound.
    """
    if since >= until:
        _refuse("query parameter from must be before to")
    if until > now + FUTURE_SLACK:
        _refuse("query parameter to is in the future; the counts end now")
    if until - since > WEEK:
        _refuse("query parameters from and to must be at most 7 days apart")
    step = 60 if until - since <= DAY else 3600
    kept = MINUTE_BUCKETS * 60 if step == 60 else HOUR_BUCKETS * 3600
    if since < now - kept:
        unit = "a range of a day or less (counted by the minute)" if step == 60 else "a longer range (by the hour)"
        _refuse(f"query parameter from must be within the last {kept // 3600} hours for {unit}")
    first, last = int(since // step) * step, int(until // step) * step
    return (last - first + step) // 60, step, until


def _refuse(message: str) -> NoReturn:
    raise CollectorError(INVALID_QUERY, message)
