"""What `collector deadletter replay` may store, by the error code a dead letter got.

A replay must never make a second copy of something a client sends again
itself. So a letter is replayed only when its answer told the client that
the request was refused for good, for a reason a change of settings can lift
(the allow-list, the size limits); then no resend is coming, and the replay
is the only copy. A letter whose answer told the client to resend (a 409, a
503), or that is not a request to store at all (a dry run's bad `?validate=`,
a body that was never read whole), is never replayed. The dead-letter page
(docs/retries-and-dead-letters.md) holds the same table; a test checks that every code has a rule.
"""

from __future__ import annotations

from typing import Any

# The codes whose letters replay sends through today's checks: the body was
# read whole, and only the body and the settings decided the refusal.
THROUGH_CHECKS = frozenset(
    {
        "empty_body",
        "invalid_utf8",
        "invalid_json",
        "nesting_too_deep",
        "number_out_of_range",
        "not_an_object",
        "invalid_event_type",
        "unknown_field",
        "invalid_field",
        "too_many_events",
        "body_too_large",
        "event_too_large",
        "invalid_idempotency_key",  # refused again by the same check, unless the letter has no key
        # Refused for good by the plan in refuse mode: once the plan (or the mode) is fixed, the replay
        # checks it against the plan loaded then, as a new request would be (flagged in flag mode).
        "tracking_plan_violation",
        # A bug of the collector's: most likely before the write (nothing
        # stored), and no client resends a 500 it cannot fix. A copy stored
        # all the same is caught by its key or its eventIds (see deadletters.replay).
        "internal_error",
    }
)

_RESEND = "its client was told to resend: the resend is the copy that counts"
# The codes whose letters are never replayed, and why.
NEVER: dict[str, str] = {
    "idempotency_key_in_flight": "a copy of a request another copy was storing; " + _RESEND,
    "storage_unavailable": _RESEND,
    "limit_storage_unavailable": _RESEND,
    "idempotency_state_busy": _RESEND,
    "collector_unavailable": _RESEND,
    "rate_limited": _RESEND,
    "idempotency_key_reused": "its key was used before with another body, which was stored; only the client "
    "can fix it (a new key)",
    "missing_write_key": "it had no valid write key: a replay must not store what a key would have refused",
    "invalid_write_key": "it had no valid write key: a replay must not store what a key would have refused",
    # Never kept either (keep.py): listed so that a letter of it, however it came, is judged.
    "bot_refused": "COLLECTOR_BOTS=refuse kept its bot out: a replay must not store what the mode refused",
    "suppressed": "a person who asked not to be collected (COLLECTOR_SUPPRESSED_IDS_FILE): a replay must never store "
    "their events",
    "console_key_required": "not a request to store events",
    "replay_running": "not a request to store events",
    "host_not_allowed": "not a request to store events",
    "range_not_satisfiable": "not a request to store events",
    "cors_preflight_refused": "not a request to store events",
    "not_found": "not a request to store events",
    "method_not_allowed": "not a request to store events",
    "invalid_query": "its query was refused (e.g. a `?validate=` typo): it may have been meant as a dry run",
    "bad_request": "the server could not read it as HTTP",
    "body_incomplete": "its body was not received whole",
    "body_unreadable": "its body was not received whole",
    "unsupported_transfer_coding": "its body was kept as it came, still encoded",
    "invalid_gzip": "its body was kept as it came, still encoded",
    "unsupported_content_encoding": "its body was kept as it came, still encoded",
    "unsupported_media_type": "no setting makes the collector accept its Content-Type",
    "unsupported_charset": "no setting makes the collector accept its charset",
}


def never_replayed(letter: dict[str, Any]) -> str | None:
    """Why `letter` is never replayed, by its code; None when it goes through today's checks."""
    code = letter.get("code")
    if code in THROUGH_CHECKS:
        return None
    # A code this version does not know (a newer version's letter): store nothing it cannot judge.
    return NEVER.get(code, f"no replay rule for the code {code!r}")  # type: ignore[arg-type]
