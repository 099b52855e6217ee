"""Dry runs: `POST /collect/event?validate=1` checks a request as a real one, and stores nothing.

Every check of a real call runs (content type, body, validation, enrichment
with the per-event size limit; the rate limit counts it too), so a dry run
answers exactly what a real call would refuse with; only the write is left
out, and a valid request gets `200 {"valid": true, "events": N}` instead of
the `201`. With a tracking plan in flag mode, `"flagged": M` says how many of
them would be stored flagged as breaking it (in refuse mode, a request
breaking it gets the real call's 400).
"""

from __future__ import annotations

import flask
import orjson

from ..errors import INVALID_QUERY, CollectorError

PARAMETER = "validate"
# The query values of `validate`, and whether each one asks for a dry run.
VALUES = {"0": False, "1": True}


def is_dry_run(request: flask.Request) -> bool:
    """Whether the request asks to be checked only: `validate=1`; absent or `validate=0` is a real call.

    :raises CollectorError: a 400 for any other value, for `validate` given twice, or for another
        spelling of it (`Validate`), so that a typo (`validate=true`) never stores events the client
        meant only to check.
    """
    if not request.query_string:  # nearly every request: no query to parse
        return False
    # Query names are case-sensitive, so `Validate=1` would be a real call:
    # another spelling of the name is refused like another value is.
    for name in request.args:
        if name != PARAMETER and name.strip().casefold() == PARAMETER:
            raise CollectorError(
                INVALID_QUERY, f"query parameter {name!r} is not known: a dry run is {PARAMETER}=1, in lower case"
            )
    values = request.args.getlist(PARAMETER)
    if not values:
        return False
    if len(values) == 1 and values[0] in VALUES:
        return VALUES[values[0]]
    shown = values[0] if len(values) == 1 else "&".join(f"{PARAMETER}={value}" for value in values)
    raise CollectorError(
        INVALID_QUERY, f"query parameter {PARAMETER} must be 1 (check only, store nothing) or 0, once; got {shown!r}"
    )


def valid_response(events: int, flagged: int | None = None) -> flask.Response:
    """The answer to a dry run that a real call would have stored: how many events it holds (and would flag)."""
    answer: dict[str, object] = {"valid": True, "events": events}
    if flagged is not None:
        answer["flagged"] = flagged
    return flask.Response(orjson.dumps(answer), status=200, mimetype="application/json")
