"""Dead letters: rejected requests kept (COLLECTOR_DEAD_LETTER=on), read, listed and replayed.

Inside: the letters files and their reading (letters), the after_request that
keeps a rejected request (keep), which codes a replay may store (rules) and the
replay through the data path (replay, `collector deadletter replay`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .keep import keeper, preflight_keeper
from .letters import DeadLetters

if TYPE_CHECKING:
    from ..settings import Settings

__all__ = ["DeadLetters", "build", "keeper", "preflight_keeper"]


def build(settings: Settings) -> DeadLetters | None:
    """The dead-letter store when COLLECTOR_DEAD_LETTER is on, else None."""
    if settings.dead_letter != "on":
        return None
    return DeadLetters(
        settings.data_dir, settings.host_name, settings.dead_letter_max_body_bytes, settings.dead_letter_max_bytes
    )
