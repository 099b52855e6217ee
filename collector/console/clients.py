"""Who sent an event, in a word, for the console's table and its `client = ...` search.

A bot's name as the collector stored it (`client.bot.name`, see docs/bots.md);
else the browser named by its User-Agent; else the agent's first product
token (`curl` of `curl/8.5.0`, `ShopApp` of `ShopApp/3.2 (iPhone)`): an app
or a back-end job names itself there. Not a full User-Agent parser: the table
needs a word a person recognises, and the whole agent is in the stored line.
"""

from __future__ import annotations

import functools
import re
from typing import Any

# Browsers that also say "Chrome" or "Safari" come first: Edge's agent holds
# Chrome's and Safari's tokens, Chrome's holds Safari's.
_BROWSERS = (
    (re.compile(r"\bEdg(?:e|A|iOS)?/"), "Edge"),
    (re.compile(r"\b(?:OPR|Opera)/"), "Opera"),
    (re.compile(r"\bSamsungBrowser/"), "Samsung Internet"),
    (re.compile(r"\b(?:Firefox|FxiOS)/"), "Firefox"),
    (re.compile(r"\bChromium/"), "Chromium"),
    (re.compile(r"\b(?:Chrome|CriOS)/"), "Chrome"),
    (re.compile(r"\bVersion/[\d.]+.*\bSafari/"), "Safari"),
)
_PRODUCT = re.compile(r"[^\s/;()]+")
# Only the start of an agent is looked at, and a name is at most this long,
# whatever a client sends; distinct agents are few, so names are cached.
MAX_AGENT_CHARS = 512
MAX_NAME_CHARS = 64


def client_name(client: Any) -> str:
    """The name the console shows for a stored `client` object; "" when it says nothing."""
    if not isinstance(client, dict):
        return ""
    bot = client.get("bot")
    if isinstance(bot, dict) and bot.get("name"):
        return str(bot["name"])[:MAX_NAME_CHARS]
    agent = client.get("userAgent")
    return _agent_name(agent[:MAX_AGENT_CHARS]) if isinstance(agent, str) else ""


def client_address(client: Any) -> str:
    """Who sent it, in a few words: the address kept, else the key's id, else the User-Agent."""
    if not isinstance(client, dict):
        return ""
    return str(client.get("ip") or client.get("keyId") or client.get("userAgent") or "")


@functools.lru_cache(maxsize=1024)
def _agent_name(agent: str) -> str:
    for pattern, name in _BROWSERS:
        if pattern.search(agent):
            return name
    product = _PRODUCT.match(agent.strip())
    return product.group(0)[:MAX_NAME_CHARS] if product else ""
