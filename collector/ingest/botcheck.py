"""The bot step of the data path: a request's bots, decided once, right after its body is validated.

COLLECTOR_BOTS says what happens to a known bot's events (collector/bots tells
a crawler, headless browser, monitor or link preview from a person):
- `flag` (the default): stored, each with `client.bot` (`{"name", "category"}`);
- `refuse`: the whole request gets 403 `bot_refused` and nothing of it is
  stored, so a 201 never covers an event that was not stored;
- `off`: nothing is classified, no event has a `bot` key.

The User-Agent is classified once per request (a cached look-up per distinct
agent, see collector/bots/classifier.py). Our browser client sends
`context.webdriver: true` when the browser is driven by a program; that hint
is each event's own, so it is read per event, and such an event is the
headless `WebDriver` even when its agent reads as a person's browser.

The view, the Segment routes and the dead-letter replay run this step through
the Intake, first after validation and before anything else is checked or
claimed (the tracking plan, an Idempotency-Key): a refused bot costs nothing more.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..bots import WEBDRIVER, Bot, BotClassifier
from ..errors import BOT_REFUSED, CollectorError
from ..ops import count_bot_events

FLAG, REFUSE, OFF = "flag", "refuse", "off"  # COLLECTOR_BOTS


def says_webdriver(event: Mapping[str, Any]) -> bool:
    """Whether the event's context says the browser was driven by a program (only `true` counts)."""
    context = event.get("context")
    return type(context) is dict and context.get("webdriver") is True  # validated: a dict or absent


@dataclass(frozen=True, slots=True)
class RequestBots:
    """The bots of one request: the one its User-Agent names (every event's), or None and then per event."""

    agent: Bot | None
    # Whether any event says webdriver: when none does (nearly every request), the
    # events need no look each when they are stored or counted.
    webdriven: bool = False

    @property
    def varies(self) -> bool:
        """Whether the events' bots differ: no bot's agent, and some event says webdriver."""
        return self.agent is None and self.webdriven

    def of(self, event: Mapping[str, Any]) -> Bot | None:
        """The bot that sent `event`, or None for a person."""
        if self.agent is not None:
            return self.agent
        return WEBDRIVER if self.webdriven and says_webdriver(event) else None

    def categories(self, events: Sequence[Mapping[str, Any]]) -> Counter[str]:
        """How many of `events` each category of bot sent (people are not counted)."""
        if self.agent is not None:
            return Counter({self.agent.category: len(events)})
        if not self.webdriven:
            return Counter()
        return Counter(bot.category for bot in map(self.of, events) if bot is not None)


@functools.lru_cache(maxsize=8)
def classifier_for(patterns: tuple[str, ...]) -> BotClassifier:
    """The classifier for a team's patterns, compiled once per process (the list takes 50-250 ms).

    A worker builds one app, so this is one classifier per worker; the tests build
    hundreds of apps, which share it. Classifying is the same for every holder
    (the cache only remembers answers), and its cache is thread-safe.
    """
    return BotClassifier(patterns)


class BotCheck:
    """COLLECTOR_BOTS and COLLECTOR_BOT_PATTERNS as a step: `check` a request's events and User-Agent."""

    def __init__(self, mode: str = OFF, patterns: Sequence[str] = ()) -> None:
        self.mode = mode
        self.classifier = None if mode == OFF else classifier_for(tuple(patterns))

    def check(self, events: Sequence[Mapping[str, Any]], user_agent: str | None) -> RequestBots | None:
        """The request's bots, for its stored lines; None with COLLECTOR_BOTS=off.

        :raises CollectorError: 403 `bot_refused` in `refuse` mode, when any event is a bot's.
        """
        if self.classifier is None:
            return None
        agent = self.classifier.classify(user_agent)
        bots = RequestBots(agent, agent is None and any(map(says_webdriver, events)))
        if self.mode == REFUSE:
            refuse_bots(bots, events)
        return bots


def refuse_bots(bots: RequestBots, events: Sequence[Mapping[str, Any]]) -> None:
    """:raises CollectorError: 403 naming the bot (or the first event that says webdriver), counted."""
    found = bots.categories(events)
    if not found:
        return
    count_bot_events(found, "refused")
    if bots.agent is not None:
        who = f"its User-Agent is {bots.agent.name} ({bots.agent.category})"
    else:
        first = next(index for index, event in enumerate(events) if says_webdriver(event))
        who = f"event {first} says context.webdriver: true (a browser driven by a program)"
    raise CollectorError(
        BOT_REFUSED, f"requests from bots are refused here (COLLECTOR_BOTS=refuse): {who}; nothing was stored"
    )
