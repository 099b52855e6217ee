"""`BotClassifier`: a User-Agent (and the browser's webdriver hint) to a `Bot`, or None for a person.

Classification is done once per distinct User-Agent string: a site's traffic
has few distinct agents, so after the first request of each, the cost on the
hot path is one look-up in an LRU cache (functools.lru_cache: thread-safe, as
gunicorn's threaded workers need). docs/bots.md gives the measured costs.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from .bot import HEADLESS, Bot
from .custom import CustomPatterns
from .generic import self_named
from .httpclients import backend_client_end
from .known import KnownBots

# Distinct agents remembered per worker. A site sees a few hundred to a few
# thousand a day (browser versions by platform); past that, the least recently
# seen agent is classified again when it returns, which costs a cold
# classification (under 2 ms), not a wrong answer.
CACHE_SIZE = 4096
# Only the first characters of an agent are classified (and kept as the cache's
# key), so that the cache holds at most CACHE_SIZE x 1 KiB per worker whatever
# a client sends. Real agents are shorter: the longest of uap-core's 30,000
# test agents has 492 characters.
MAX_USER_AGENT_LENGTH = 1024
# A browser that says navigator.webdriver is true (our browser client sends it
# as context.webdriver) is driven by a program, whatever its User-Agent says.
WEBDRIVER = Bot("WebDriver", HEADLESS)


class BotClassifier:
    """Tells bots from people by User-Agent: the team's patterns first, then the maintained list."""

    def __init__(self, custom_patterns: Sequence[str] = (), cache_size: int = CACHE_SIZE) -> None:
        """Compile the list and the team's patterns (once per worker, at start-up).

        :raises ValueError: a custom pattern is not a valid regular expression, or past the bounds.
        """
        self._custom = CustomPatterns(custom_patterns)
        self._known = KnownBots()
        self._cached = functools.lru_cache(maxsize=cache_size)(self._classify_agent)

    def classify(self, user_agent: str | None, webdriver: bool = False) -> Bot | None:
        """The bot this agent is, or None for a person (or an HTTP client library, or no agent)."""
        bot = self._cached(user_agent[:MAX_USER_AGENT_LENGTH]) if user_agent else None
        if bot is None and webdriver:
            return WEBDRIVER
        return bot

    def cache_info(self) -> tuple[int, int, int | None, int]:
        """(hits, misses, maxsize, currsize) of the per-agent cache, as functools.lru_cache counts them."""
        return self._cached.cache_info()

    def _classify_agent(self, user_agent: str) -> Bot | None:
        # The team's own patterns first: they are how a team flags what the list
        # leaves out (an HTTP client its scrapers use) or renames what it has.
        # Then the list, which knows a bot's category; then the words.
        # As with the list, a back-end client's own token ("Go-http-client") is skipped.
        return (
            self._custom.match(user_agent)
            or self._known.match(user_agent)
            or self_named(user_agent, backend_client_end(user_agent))
        )
