"""The intake: what the data path checks and adds to a request, built once at start-up from the settings.

The view (POST /collect/event), the Segment-compatible routes and the dead-letter
replay take a request the same way, step by step in this order: validate its
payload (the schemas, the most events per request), its suppressed ids
(COLLECTOR_SUPPRESSED_IDS_FILE), its bots (COLLECTOR_BOTS),
the tracking plan (COLLECTOR_TRACKING_PLAN), know its facts (pingId, time, client as COLLECTOR_CLIENT_IP
keeps it), and turn its events into stored lines (the event-time rules, the most
bytes per event). They share these steps through one `Intake`, so none of them
reads a setting or can take a step differently from the others. That holds
for the bot step too (COLLECTOR_BOTS, botcheck.py): its classifier is built
once per worker here, so all three classify alike.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import flask

from ..errors import BODY_TOO_LARGE, CollectorError
from .botcheck import BotCheck, RequestBots
from .enrich import stored_lines
from .eventtime import TimeRules, rules_for
from .facts import RequestFacts, request_facts
from .naming import segment_name
from .plancheck import checked_events
from .schemas import RequestValidator
from .segment import MAX_BATCH_BYTES, SegmentRequest, map_request, segment_details, segment_error
from .suppresscheck import refuse_suppressed

if TYPE_CHECKING:
    from ..plan import TrackingPlan
    from ..settings import Settings
    from ..suppressed import SuppressedIds


@dataclasses.dataclass(frozen=True)
class Accepted:
    """A request's events past every check, ready for their lines."""

    events: Sequence[Mapping[str, Any]]  # as sent, or flagged copies (the tracking plan's flag mode)
    header: Mapping[str, Any] | None  # the messageheader, when sent
    bots: RequestBots | None  # the bot step's answer, for each event's client.bot (None: COLLECTOR_BOTS=off)


@dataclasses.dataclass(frozen=True)
class Intake:
    """The data path's validator, bot step, event-time rules, size limits and client-address mode."""

    validator: RequestValidator
    time_rules: TimeRules
    max_body_bytes: int
    max_event_bytes: int
    client_ip: str = "full"  # COLLECTOR_CLIENT_IP: what is kept of a client's address
    bot_check: BotCheck = dataclasses.field(default_factory=BotCheck)  # COLLECTOR_BOTS; built without settings: off
    # COLLECTOR_TRACKING_PLAN, compiled once at start-up (in gunicorn's master: collector/settings/pinned.py),
    # and COLLECTOR_TRACKING_PLAN_MODE. Every route and the dead-letter replay check through `check_plan`
    # or `check_segment_plan`: after the bot step, before enrichment (see plancheck.py).
    plan: TrackingPlan | None = None
    plan_mode: str = "flag"
    # COLLECTOR_SUPPRESSED_IDS_FILE, read once at start-up (in gunicorn's master: collector/suppressed.py).
    # Every route and the dead-letter replay check through `suppress`: first after validation.
    suppressed: SuppressedIds | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Intake:
        return cls(
            validator=RequestValidator(settings.max_events, settings.event_types),
            time_rules=rules_for(settings),
            max_body_bytes=settings.max_body_bytes,
            max_event_bytes=settings.max_event_bytes,
            client_ip=settings.client_ip,
            bot_check=BotCheck(settings.bots, settings.bot_patterns),
            plan=settings.tracking_plan,
            plan_mode=settings.tracking_plan_mode,
            suppressed=settings.suppressed_ids_file,
        )

    def accept(self, payload: Any, user_agent: str | None) -> Accepted:
        """The data path's checks of a /collect/event body, in their order: the envelope, suppressed ids, bots,
        the tracking plan. The view and the dead-letter replay both take a request through here.

        Suppressed ids come first (a person who asked not to be collected is refused whatever else the request
        is), then bots (a refused bot is checked no further), then the plan.
        :raises CollectorError: the first check that refuses the request.
        """
        data = self.validate(payload)
        self.suppress(data["messageBody"])
        bots = self.bots(data["messageBody"], user_agent)
        return Accepted(self.check_plan(data["messageBody"]), data.get("messageheader"), bots)

    def accept_segment(self, payload: Any, call: str | None, body: bytes, user_agent: str | None) -> Accepted:
        """`accept` for a Segment request (`call` None for /v1/batch; `body` as read, for Segment's size limit),
        its errors worded as that route words them."""
        mapped = self.segment(payload, call, body)
        self.suppress_segment(mapped, call)
        bots = self.bots(mapped.events, user_agent)  # a message's context is kept as sent
        mapped = self.check_segment_plan(mapped, call)
        return Accepted(mapped.events, mapped.core.get("messageheader"), bots)

    def validate(self, payload: Any) -> dict[str, Any]:
        """The validated request body (`messageBody`, and `messageheader` when sent): the envelope.

        :raises CollectorError: a 400 with a message a person can act on (see schemas.py).
        """
        return self.validator.validate(payload)

    def suppress(self, events: Sequence[Mapping[str, Any]]) -> None:
        """The suppression step, first after validation: before the bots and the plan (see suppresscheck.py).

        :raises CollectorError: 403 `suppressed` when any event's userId or anonymousId is suppressed.
        """
        refuse_suppressed(self.suppressed, events)

    def suppress_segment(self, mapped: SegmentRequest, call: str | None) -> None:
        """`suppress` for a Segment request (`call` None for /v1/batch), its events named as that route names them."""
        refuse_suppressed(self.suppressed, mapped.events, segment_name(call))

    def bots(self, events: Sequence[Mapping[str, Any]], user_agent: str | None) -> RequestBots | None:
        """The bot step, right after validation: the request's bots for its lines (None: COLLECTOR_BOTS=off).

        Before the plan's step: a refused bot is checked no further.
        :raises CollectorError: 403 `bot_refused` with COLLECTOR_BOTS=refuse when any event is a bot's.
        """
        return self.bot_check.check(events, user_agent)

    def check_plan(self, events: Sequence[Mapping[str, Any]]) -> Sequence[Mapping[str, Any]]:
        """The tracking plan's step, after the bot step: `events`, those breaking the plan flagged in flag mode.

        Flagged events are copies (the payload is left as sent, for its Idempotency-Key's fingerprint).
        :raises CollectorError: 400 `tracking_plan_violation` in refuse mode (see plancheck.py).
        """
        if self.plan is None:
            return events
        return checked_events(self.plan, self.plan_mode, events)

    def segment(self, payload: Any, call: str | None, body: bytes) -> SegmentRequest:
        """A Segment request body (`call` None for /v1/batch) mapped, and its core validated like our own.

        `body` is the request's body as read (gzip undone), for Segment's size limit.
        :raises CollectorError: 413 over the size limit, 400 for a message that is wrong, in Segment's words.
        """
        check_batch_size(body, self.max_body_bytes)
        mapped = map_request(payload, call)
        try:
            self.validator.validate(mapped.core)
        except CollectorError as error:
            raise segment_error(error, single=call is not None) from None
        return mapped

    def check_segment_plan(self, mapped: SegmentRequest, call: str | None) -> SegmentRequest:
        """`check_plan` for a Segment request, its errors' details named as that route's others are."""
        if self.plan is None:
            return mapped
        try:
            events = checked_events(self.plan, self.plan_mode, mapped.events, segment_name(call))
        except CollectorError as error:
            # Details named as this route's other errors name them: `batch`, or the message's own fields.
            raise CollectorError(
                error.kind, error.message, details=segment_details(error.details, single=call is not None)
            ) from None
        return dataclasses.replace(mapped, events=[dict(event) for event in events])

    def facts(self, request: flask.Request) -> RequestFacts:
        """What the server knows of `request` besides its body, its client's address kept as the mode says."""
        return request_facts(request, self.client_ip)

    def lines(
        self,
        events: Iterable[Mapping[str, Any]],
        header: Mapping[str, Any] | None,
        facts: RequestFacts,
        bots: RequestBots | None = None,
    ) -> list[bytes]:
        """Validated `events` as their stored lines (see enrich.stored_lines), each with its `client.bot` if any.

        :raises CollectorError: a 413 naming the first event larger than COLLECTOR_MAX_EVENT_BYTES as stored.
        """
        return stored_lines(events, header, facts, self.max_event_bytes, self.time_rules, bots)


def check_batch_size(body: bytes, max_body_bytes: int) -> None:
    """Segment's 500 KB per request (of JSON, after gzip is undone), or the collector's own limit when lower.

    :raises CollectorError: 413 `body_too_large`, as the collector's own limit answers.
    """
    limit = min(MAX_BATCH_BYTES, max_body_bytes)
    if len(body) > limit:
        raise CollectorError(BODY_TOO_LARGE, f"request body is larger than {limit} bytes")
