"""The eventType rule, shared by the schemas, the settings' allow-list and tracking plans (below all three)."""

from __future__ import annotations

import re

# Unicode category Cc is exactly U+0000-U+001F and U+007F-U+009F (C0, DEL, C1).
_CONTROL_CHARACTER = re.compile("[\x00-\x1f\x7f-\x9f]")


def is_valid_event_type(value: str) -> bool:
    """The eventType rule: 1-128 characters, not blank, no control characters (Cc)."""
    return 0 < len(value) <= 128 and not value.isspace() and not _CONTROL_CHARACTER.search(value)
