"""The paths clients post events to, and the route each belongs to, for the layers outside `ingest`.

The metrics (a bounded `path` label, and which requests are timed) and the
rate limit's refusal replay work below Flask, on the path as sent, and must not
import this package (imports point down): `create_app` hands them `ROUTES`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from .segment import BATCH_PATHS, CALLS, SHORT_CALLS

COLLECT_PATH = "/collect/event"
SEGMENT_BATCH_ROUTE = "/v1/batch"
# The six single-call routes (and their one-letter forms) are one route to an operator:
# a label each would add series without telling much that the event types do not.
SEGMENT_CALL_ROUTE = "/v1/<call>"

# Path as sent -> its route: every path of the data path, so every path the rate limit covers.
ROUTES: Mapping[str, str] = MappingProxyType(
    {
        COLLECT_PATH: COLLECT_PATH,
        **{path: SEGMENT_BATCH_ROUTE for path in BATCH_PATHS},
        **{f"/v1/{call}": SEGMENT_CALL_ROUTE for call in (*CALLS, *SHORT_CALLS)},
    }
)
