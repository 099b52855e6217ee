"""What a classified User-Agent is: a `Bot`, with a name and one of five categories."""

from __future__ import annotations

from dataclasses import dataclass

# The categories, documented in docs/bots.md. A stored event's `client.bot`
# carries one of them; a report groups by them.
CRAWLER = "crawler"  # search engines, SEO tools, AI crawlers, scanners, feed readers, archivers
HEADLESS = "headless"  # a browser driven by a program: HeadlessChrome, PhantomJS, Lighthouse, WebDriver
MONITOR = "monitor"  # uptime and synthetic checks: UptimeRobot, Pingdom, Datadog Synthetics
PREVIEW = "preview"  # link-preview fetchers of chat and social apps: Slackbot, Twitterbot, WhatsApp
CUSTOM = "custom"  # matched by one of the team's own COLLECTOR_BOT_PATTERNS
CATEGORIES = (CRAWLER, HEADLESS, MONITOR, PREVIEW, CUSTOM)
# A name is stored in every event of the bot: a long match (a team's `.*scraper.*`
# matches a whole agent) is cut to this.
MAX_NAME_LENGTH = 100


@dataclass(frozen=True, slots=True)
class Bot:
    """A known bot: its name (`Googlebot`) and its category (`crawler`)."""

    name: str
    category: str

    def __post_init__(self) -> None:
        if self.category not in CATEGORIES:
            raise ValueError(f"unknown bot category {self.category!r}: one of {', '.join(CATEGORIES)}")

    def as_json(self) -> dict[str, str]:
        """The `client.bot` object of a stored event."""
        return {"name": self.name, "category": self.category}
