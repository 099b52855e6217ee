"""The fallback rule: an agent that calls itself a bot, spider or crawler is one.

Lists name the bots someone has seen; many more announce themselves in their
product token ("SputnikBot/2.3", "EtaoSpider/1.0", "NL-Crawler"). Matching those
words is how uap-core and the npm `isbot` package catch the rest; we do the
same, after the list, as a whole token only, so that the words must end the
token: "Botim/5.2" (a messenger) and "Roboto" are not bots.

One exception: CUBOT phones ("CUBOT ONE Build/JOP40D") are named like a bot.
"""

from __future__ import annotations

import re

from .bot import CRAWLER, MAX_NAME_LENGTH, Bot

# A token of letters, digits and ._- that ends in bot, spider or crawler.
_SELF_NAMED = re.compile(r"(?<![a-z0-9])[a-z0-9_.-]*?(?:bot|spider|crawler)(?![a-z])", re.IGNORECASE)
_NOT_A_BOT = re.compile(r"(?<![a-z0-9])cubot(?![a-z])", re.IGNORECASE)


def self_named(user_agent: str, start: int = 0) -> Bot | None:
    """A crawler named by the first token from `start` on that says it is one, or None."""
    for found in _SELF_NAMED.finditer(user_agent, start):
        if not _NOT_A_BOT.fullmatch(found.group(0)):
            name = found.group(0).strip("._-")
            return Bot(name[:MAX_NAME_LENGTH], CRAWLER)
    return None
