"""Bots told apart from people: a User-Agent to a known crawler, headless browser, monitor or link preview.

`BotClassifier(custom_patterns).classify(user_agent, webdriver)` gives a `Bot`
(name and category, `as_json()` for a stored event's `client.bot`) or None.
`parse_patterns` reads a COLLECTOR_BOT_PATTERNS value. docs/bots.md is the manual.
"""

from .bot import CATEGORIES, CRAWLER, CUSTOM, HEADLESS, MONITOR, PREVIEW, Bot
from .classifier import CACHE_SIZE, MAX_USER_AGENT_LENGTH, WEBDRIVER, BotClassifier
from .custom import MAX_PATTERN_LENGTH, MAX_PATTERNS, parse_patterns

__all__ = [
    "CACHE_SIZE",
    "CATEGORIES",
    "CRAWLER",
    "CUSTOM",
    "HEADLESS",
    "MAX_PATTERNS",
    "MAX_PATTERN_LENGTH",
    "MAX_USER_AGENT_LENGTH",
    "MONITOR",
    "PREVIEW",
    "WEBDRIVER",
    "Bot",
    "BotClassifier",
    "parse_patterns",
]
