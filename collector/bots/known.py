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

from .bot import CRAWLER, HEADLESS, MAX_NAME_LENGTH, MONITOR, PREVIEW, Bot
from .httpclients import backend_client_end

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

# Upstream patterns that also match people's browsers (found by running the list
# on uap-core's 30,000 test agents, see docs/bots.md), each with the stricter
# pattern we use in its place, or None to leave the entry out. If upstream
# changes a pattern, its entry here no longer applies and the corpus test tells.
CORRECTIONS: dict[str, str | None] = {
    "Butterfly": r"Butterfly/",  # HTC Butterfly phones: "HTC Butterfly Build/JRO03C"
    "Sonic": r"(?<!\w)Sonic/|RankSonic",  # "ViewSonic-ViewPad4", "Lucky Ultra Sonic U8650"
    "008\\/": r"(?<![\w.])008/",  # Opera Mini "Opera Mini/4.4.39008/37.9178", "sprd-L008/1.0"
    "RED\\/": r"(?<![\w-])RED/",  # WIRED's iPad app: "WIRED/3.2.3.11.87970"
    "speedy": r"(?i:speedy[ _]?spider)",  # Yahoo Mail for Android: "(speedy;HTC;PG06100;2.2/FRF91)"
    "Teoma": r"Teoma(?!Bar)",  # Internet Explorer with Ask's toolbar: "MSIE 6.0; ...; TeomaBar 2.01"
    # An Android build number, which every phone on that build sends
    # ("CPH2617 Build/AP3A.240617.008", OnePlus and OPPO on Android 15).
    "AP3A\\.240617\\.008": None,
    # Fluid wraps a site in a macOS app of its own: a person's browser.
    "Fluid": None,
}

# Upstream tags some crawling frameworks `http-library` along with the client
# libraries; by the name in their pattern they are crawlers (Scrapy, HTTrack,
# colly, crawler4j, larbin, trafilatura, ...).
_CRAWLING_LIBRARY = re.compile(
    r"crawl|spider|scrap|bot|httrack|colly|larbin|trafilatura|newspaper|ninja|opengraph", re.IGNORECASE
)

# A bot's name is the product token around the text its pattern matched.
_TOKEN_CHAR = re.compile(r"[0-9A-Za-z-]")
# Upstream's own Python matcher joins its patterns in chunks of 25 (one search
# per chunk finds whether any matches); we do the same, then try the chunk's
# patterns one by one only where it matched.
CHUNK = 25


@dataclass(frozen=True, slots=True)
class _Entry:
    pattern: re.Pattern[str]
    category: str | None  # None: an HTTP client library, not a bot by itself


def category_of(pattern: str, tags: Iterable[str]) -> str | None:
    """Our category for an upstream entry: None for an HTTP client library, which is no bot by itself."""
    tags = set(tags)
    for tag, category in TAG_CATEGORIES.items():
        if tag in tags:
            return category
    if tags == {HTTP_LIBRARY} and not _CRAWLING_LIBRARY.search(pattern):
        return None
    return CRAWLER


def bot_name(user_agent: str, start: int, end: int) -> str:
    """The product name around the text user_agent[start:end] that a pattern matched.

    The match is cut at its first "/" (a version or a path follows) and widened
    to the whole token: "Googlebot" for "Googlebot/" in "Googlebot/2.1", "Code" for
    "Code/1." in "Code/1.115.0", "Slackbot-LinkExpanding" for "Slackbot".
    """
    while start < end and not user_agent[start].isalnum():
        start += 1
    slash = user_agent.find("/", start, end)
    end = slash if slash != -1 else end
    while end > start and not user_agent[end - 1].isalnum():
        end -= 1
    while start > 0 and _TOKEN_CHAR.match(user_agent[start - 1]):
        start -= 1
    while end < len(user_agent) and _TOKEN_CHAR.match(user_agent[end]):
        end += 1
    return user_agent[start:end].strip("-")[:MAX_NAME_LENGTH]


class KnownBots:
    """The list, compiled once (about 0.1 s, at start-up); `match` finds an agent in it."""

    def __init__(self, data: Iterable[Mapping] | None = None) -> None:
        if data is None:
            # Imported here, not at the top: the package reads its JSON file when imported.
            # It ships no type hints (no py.typed): its data is Any here.
            import crawleruseragents  # type: ignore[import-untyped]

            data = crawleruseragents.CRAWLER_USER_AGENTS_DATA
        self._entries = [entry for entry in map(_entry, data) if entry is not None]
        self._chunks = [
            (re.compile("|".join(f"(?:{e.pattern.pattern})" for e in chunk)), chunk)
            for chunk in (self._entries[i : i + CHUNK] for i in range(0, len(self._entries), CHUNK))
        ]

    def __len__(self) -> int:
        return len(self._entries)

    def match(self, user_agent: str) -> Bot | None:
        """The bot named by the first entry that matches, or None.

        An HTTP client library's entry is no match, and neither is any entry
        matching within the back-end client's own product token at the start
        ("curl/8.5.0", "python-requests/2.32.3"): see httpclients.py.
        """
        client_end = backend_client_end(user_agent)
        for combined, chunk in self._chunks:
            if not combined.search(user_agent):
                continue
            for entry in chunk:
                if entry.category is None:
                    continue
                found = entry.pattern.search(user_agent, client_end)
                if found:
                    name = bot_name(user_agent, *found.span()) or found.group(0)
                    return _bot(name[:MAX_NAME_LENGTH], entry.category)
        return None


def _entry(item: Mapping) -> _Entry | None:
    pattern = CORRECTIONS.get(item["pattern"], item["pattern"])
    if pattern is None:
        return None
    return _Entry(re.compile(pattern), category_of(item["pattern"], item.get("tags", ())))


def _bot(name: str, category: str) -> Bot:
    for pattern, override in CATEGORY_OVERRIDES:
        if pattern.search(name):
            return Bot(name, override)
    return Bot(name, category)
