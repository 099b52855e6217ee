"""The maintained list: upstream's tags as our categories, our corrections, and names."""

from __future__ import annotations

import pytest

from collector.bots.known import CORRECTIONS, KnownBots, bot_name, category_of


@pytest.mark.parametrize(
    "pattern, tags, category",
    [
        ("HeadlessChrome", ["browser-automation"], "headless"),
        ("UptimeRobot", ["monitoring"], "monitor"),
        ("Twitterbot", ["social-preview"], "preview"),
        ("Googlebot\\/", ["search-engine"], "crawler"),
        ("GPTBot", ["ai-crawler"], "crawler"),
        ("Nikto", ["scanner"], "crawler"),
        ("SomeBot", ["a-tag-added-later"], "crawler"),
        ("TikTokSpider", ["ai-crawler", "social-preview"], "preview"),
        ("Devin", ["browser-automation", "ai-crawler"], "headless"),
        ("python-requests", ["http-library"], None),
        ("^curl", ["http-library"], None),
        ("Scrapy", ["http-library"], "crawler"),
        ("HTTrack", ["http-library"], "crawler"),
        ("colly", ["http-library"], "crawler"),
    ],
)
def test_upstream_tags_map_to_our_categories(pattern, tags, category):
    assert category_of(pattern, tags) == category


@pytest.mark.parametrize(
    "agent, matched, name",
    [
        ("Googlebot/2.1 (+http://www.google.com/bot.html)", "Googlebot/", "Googlebot"),
        ("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", "Slackbot", "Slackbot-LinkExpanding"),
        ("Mozilla/5.0 (Windows NT 10.0) Code/1.115.0 Chrome/142.0", "Code/1.", "Code"),
        ("Mozilla/5.0 (compatible; pingbot/2.0; +http://www.pingdom.com/)", "pingdom", "pingdom"),
        ("Mozilla/5.0 (X11; Linux x86_64) Chrome/64.0 Safari/537.36 PTST/1.0", " PTST/", "PTST"),
        ("Mozilla/5.0 (compatible; Linux x86_64; Mail.RU_Bot/2.0)", "Mail.RU_Bot", "Mail.RU_Bot"),
    ],
)
def test_a_bot_is_named_by_the_product_token_its_pattern_matched(agent, matched, name):
    start = agent.index(matched)
    assert bot_name(agent, start, start + len(matched)) == name


def entry(pattern, tags, instance=None):
    return {"pattern": pattern, "tags": tags, "instances": [instance] if instance else []}


def test_the_first_matching_entry_names_the_bot():
    known = KnownBots([entry("Acme", ["seo"]), entry("AcmeCheck", ["monitoring"])])
    assert known.match("AcmeCheck/1.0").as_json() == {"name": "AcmeCheck", "category": "crawler"}


def test_an_http_library_entry_flags_nothing_but_the_other_entries_still_do():
    known = KnownBots([entry("okhttp", ["http-library"]), entry("Mastodon", ["social-preview"])])
    assert known.match("DAVdroid/1.9.2-gplay (2017/11/04; dav4android; okhttp3) Android/7.1.2") is None
    assert known.match("okhttp/4.12.0 Mastodon/4.2").name == "Mastodon"


def test_a_back_end_clients_own_token_is_not_matched_whatever_upstream_tags_it():
    known = KnownBots([entry("curl", ["scanner"])])
    assert known.match("curl/8.5.0") is None
    assert known.match("Mozilla/5.0 (compatible; curl-monitor)").name == "curl-monitor"


def test_lighthouse_is_headless_though_upstream_files_it_under_monitoring():
    known = KnownBots([entry("Chrome-Lighthouse", ["monitoring"])])
    agent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36(KHTML, like Gecko) Chrome/69.0 Chrome-Lighthouse"
    assert known.match(agent).as_json() == {"name": "Chrome-Lighthouse", "category": "headless"}


# Each correction: a person's agent upstream's pattern matched, and the bot it is for.
PEOPLE_AND_BOTS = {
    "Butterfly": (
        "Mozilla/5.0 (Linux; Android 4.1.1; HTC Butterfly Build/JRO03C) AppleWebKit/535.19 (KHTML, like Gecko) "
        "Chrome/18.0.1025.166 Mobile Safari/535.19",
        "Mozilla/5.0 (compatible; Butterfly/1.0; +http://labs.topsy.com/butterfly/) Gecko/2009032608 Firefox/3.0.8",
    ),
    "Sonic": (
        "Mozilla/5.0 (Linux; U; Android 2.2.2; En-us; ViewSonic-ViewPad4 Build/FRG83G) AppleWebKit/533.1",
        "Mozilla/5.0 (compatible; Sonic/1.0; http://www.yama.info.waseda.ac.jp/~crawler/info.html)",
    ),
    "008\\/": (
        "Opera/9.80 (MAUI Runtime; Opera Mini/4.4.39008/37.9178; U; en) Presto/2.12.423 Version/12.16",
        "008/0.83 (http://www.advancedwebranking.com)",
    ),
    "RED\\/": (
        "Mozilla/5.0 (iPad; U; CPU iPhone OS 7_0 like Mac OS X; de-DE) WIRED/3.2.3.11.87970",
        "RED/2.0.14 (https://redbot.org/)",
    ),
    "speedy": (
        "YahooMobileMail/1.0 (Android Mail; 1.3.6) (speedy;HTC;PG06100;2.2/FRF91)",
        "Speedy Spider (http://www.entireweb.com/about/search_tech/speedy_spider/)",
    ),
    "Teoma": (
        "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1; TeomaBar 2.01)",
        "Mozilla/2.0 (compatible; Ask Jeeves/Teoma; +http://sp.ask.com/docs/about/tech_crawling.html)",
    ),
    "AP3A\\.240617\\.008": (
        "Mozilla/5.0 (Linux; U; Android 15; en-gb; CPH2617 Build/AP3A.240617.008) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/125.0.6422.72 Mobile Safari/537.36 HeyTapBrowser/45.13.4.1",
        None,
    ),
    "Fluid": (
        "Mozilla/5.0 (Macintosh; U; Intel Mac OS X 10_5_6; en-us) AppleWebKit/528.16 (KHTML, like Gecko) "
        "Fluid/0.9.6 Safari/528.16",
        None,
    ),
}


@pytest.mark.parametrize("pattern", sorted(CORRECTIONS))
def test_a_corrected_pattern_spares_the_person_and_still_finds_its_bot(pattern):
    person, bot = PEOPLE_AND_BOTS[pattern]
    known = KnownBots([entry(pattern, ["seo"])])
    assert known.match(person) is None
    if bot is None:  # left out whole
        assert len(known) == 0
    else:
        assert known.match(bot) is not None


def test_the_installed_list_is_large_and_every_correction_is_still_in_it():
    import crawleruseragents

    patterns = {item["pattern"] for item in crawleruseragents.CRAWLER_USER_AGENTS_DATA}
    # A correction whose pattern upstream changed applies to nothing: look again at that entry.
    assert set(CORRECTIONS) <= patterns
    assert len(KnownBots()) > 1000
