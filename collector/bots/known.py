"""The maintained bot list: crawler-user-agents' patterns, with its tags mapped to our categories.

Why this list (and not uap-core's spider rule, nor another) is told in
docs/bots.md: it is a list *of bots*, updated every few weeks, each entry
tagged with what the bot does, MIT-licensed; an update is
`pip install -U crawler-user-agents`.

The patterns are upstream's, matched case-sensitively as upstream matches them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .bot import CRAWLER, HEADLESS, MONITOR, PREVIEW, Bot
from .clients import is_backend_client

# Upstream tags to our categories; a tag not named here (search-engine, seo,
# ai-crawler, scanner, advertising, feed-reader, archiver, academic, and any
# tag added later) is a crawler. The order is the priority when an entry has
# several tags: `meta-externalagent` (ai-crawler, social-preview) is a preview.
TAG_CATEGORIES = {
    "browser-automation": HEADLESS,
    "monitoring": MONITOR,
    "social-preview": PREVIEW,
}
HTTP_LIBRARY = "http-library"

# Where we file a bot apart from upstream's tag, by the name found.
# Lighthouse (PageSpeed Insights, audits) is a headless Chrome loading the page
# and running its scripts, which is what `headless` tells a reader; upstream
# files it under monitoring.
CATEGORY_OVERRIDES = ((re.compile(r"Lighthouse"), HEADLESS),)

# Upstream patterns that also match ordinary browsers (found by running the list
# on uap-core's 17,000 test agents, see docs/bots.md), each with the stricter
# pattern we use in its place. If upstream changes the pattern, its entry here
# no longer applies and the corpus test tells.
STRICTER = {
    "Butterfly": r"Butterfly/",  # HTC Butterfly phones: "HTC Butterfly Build/JRO03C"
    "Sonic": r"(?<!\w)Sonic/|RankSonic",  # "ViewSonic-ViewPad4", "Lucky Ultra Sonic U8650"
    "008\\/": r"(?<![\w.])008/",  # Opera Mini "Opera Mini/4.4.39008/37.9178", "sprd-L008/1.0"
    "RED\\/": r"(?<![\w-])RED/",  # WIRED's iPad app: "WIRED/3.2.3.11.87970"
    "speedy": r"(?i:speedy[ _]?spider)",  # Yahoo Mail for Android: "(speedy;HTC;PG06100;2.2/FRF91)"
}

# A bot's name is the product token around the text its pattern matched.
_TOKEN_CHAR = re.compile(r"[0-9A-Za-z-]")
MAX_NAME_LENGTH = 100
# Upstream's own Python matcher joins its patterns in chunks of 25 (one search
# per chunk finds whether any matches); we do the same, then try the chunk's
# patterns one by one only where it matched.
CHUNK = 25


@dataclass(frozen=True, slots=True)
class _Entry:
    pattern: re.Pattern[str]
    category: str | None  # None: an HTTP library, a crawler unless the agent is a back-end client


def category_of(tags: Iterable[str]) -> str | None:
    """Our category for an entry's upstream tags (None for an HTTP library alone)."""
    tags = set(tags)
    for tag, category in TAG_CATEGORIES.items():
        if tag in tags:
            return category
    return None if tags == {HTTP_LIBRARY} else CRAWLER


def bot_name(user_agent: str, start: int, end: int) -> str:
    """The product token around user_agent[start:end]: "Googlebot" for "Googlebot/" in "Googlebot/2.1",
    "Slackbot-LinkExpanding" for "Slackbot" in "Slackbot-LinkExpanding 1.0"."""
    while start < end and not user_agent[start].isalnum():
        start += 1
    while end > start and not user_agent[end - 1].isalnum():
        end -= 1
    while start > 0 and _TOKEN_CHAR.match(user_agent[start - 1]):
        start -= 1
    while end < len(user_agent) and _TOKEN_CHAR.match(user_agent[end]):
        end += 1
    return user_agent[start:end].strip("-")[:MAX_NAME_LENGTH]


class KnownBots:
    """The list compiled once (a few hundred milliseconds, at start-up); `match` finds an agent in it."""

    def __init__(self, data: Iterable[Mapping] | None = None) -> None:
        if data is None:
            # Imported here, not at the top: the package reads its JSON file when imported.
            import crawleruseragents

            data = crawleruseragents.CRAWLER_USER_AGENTS_DATA
        self._entries = [_entry(item) for item in data]
        self._chunks = [
            (re.compile("|".join(f"(?:{e.pattern.pattern})" for e in chunk)), chunk)
            for chunk in (self._entries[i : i + CHUNK] for i in range(0, len(self._entries), CHUNK))
        ]

    def __len__(self) -> int:
        return len(self._entries)

    def match(self, user_agent: str) -> Bot | None:
        """The bot the first matching entry names, or None (an HTTP library's own agent is None)."""
        backend = is_backend_client(user_agent)
        for combined, chunk in self._chunks:
            if not combined.search(user_agent):
                continue
            for entry in chunk:
                found = entry.pattern.search(user_agent)
                if found and not (entry.category is None and backend):
                    return _bot(bot_name(user_agent, *found.span()), entry.category or CRAWLER)
        return None


def _entry(item: Mapping) -> _Entry:
    pattern = STRICTER.get(item["pattern"], item["pattern"])
    return _Entry(re.compile(pattern), category_of(item.get("tags", ())))


def _bot(name: str, category: str) -> Bot:
    for pattern, override in CATEGORY_OVERRIDES:
        if pattern.search(name):
            return Bot(name, override)
    return Bot(name, category)
