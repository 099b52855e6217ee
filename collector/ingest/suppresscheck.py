"""The suppression step (COLLECTOR_SUPPRESSED_IDS_FILE): a request carrying a suppressed id is refused whole.

The first step after the envelope is validated (the ids are read from the
validated events), before the bot step and the tracking plan: a person who
asked not to be collected is refused whatever else the request is (a bot's,
one breaking the plan), and the answer a sender gets is the one that tells it
to stop sending that person's events. Nothing of the request is stored, nor
kept as a dead letter (deadletters/keep.py), nor replayed (deadletters/rules.py).

The message names the event and the field, never the id: it is a person's,
and answers are logged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from ..errors import SUPPRESSED, CollectorError
from .naming import EventName, collect_name

if TYPE_CHECKING:
    from ..suppressed import SuppressedIds


def refuse_suppressed(
    suppressed: SuppressedIds | None,
    events: Sequence[Mapping[str, object]],
    name: EventName = collect_name,
) -> None:
    """Nothing when no event carries a suppressed id; `name(index)` names an event (None: the only message).

    :raises CollectorError: 403 `suppressed`, naming the first event's field that carries one.
    """
    if suppressed is None:
        return
    found = suppressed.first_match(events)
    if found is None:
        return
    index, field = found
    where = name(index)
    raise CollectorError(
        SUPPRESSED,
        f"{where + '.' if where else ''}{field} is a suppressed id (COLLECTOR_SUPPRESSED_IDS_FILE): this person "
        "asked not to be collected; nothing of the request was stored. Stop sending their events",
    )
