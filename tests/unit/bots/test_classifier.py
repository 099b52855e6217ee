"""BotClassifier: named examples of each category, back-end clients, webdriver, custom patterns, the cache."""

from __future__ import annotations

import pytest

from collector.bots import CACHE_SIZE, MAX_USER_AGENT_LENGTH, WEBDRIVER, Bot, BotClassifier

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)


@pytest.mark.parametrize(
    "agent, name, category",
    [
        ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "Googlebot", "crawler"),
        ("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", "bingbot", "crawler"),
        (
            "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.0; +https://openai.com/gptbot)",
            "GPTBot",
            "crawler",
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/74.0.3729.169 "
            "Safari/537.36",
            "HeadlessChrome",
            "headless",
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36(KHTML, like Gecko) Chrome/69.0.3464.0 Safari/537.36 "
            "Chrome-Lighthouse",
            "Chrome-Lighthouse",
            "headless",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X) AppleWebKit/534.34 (KHTML, like Gecko) PhantomJS/1.6.0 "
            "Safari/534.34",
            "PhantomJS",
            "headless",
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 "
            "Safari/537.36 Puppeteer",
            "HeadlessChrome",
            "headless",
        ),
        ("Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)", "UptimeRobot", "monitor"),
        ("Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)", "Pingdom", "monitor"),
        ("StatusCake_Uptime_Checker/1.0", "StatusCake", "monitor"),
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.7204.168 "
            "Safari/537.36 DatadogSynthetics",
            "DatadogSynthetics",
            "monitor",
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/100.0.4896.60 "
            "Safari/537.36 NewRelicSynthetics/1.0",
            "NewRelicSynthetics",
            "monitor",
        ),
        ("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", "Slackbot-LinkExpanding", "preview"),
        ("Twitterbot/1.0", "Twitterbot", "preview"),
        ("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", "facebookexternalhit", "preview"),
        ("WhatsApp/2.19.81 A", "WhatsApp", "preview"),
        ("Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)", "Discordbot", "preview"),
        ("TelegramBot (like TwitterBot)", "TelegramBot", "preview"),
        (
            "LinkedInBot/1.0 (compatible; Mozilla/5.0; Jakarta Commons-HttpClient/3.1 +http://www.linkedin.com)",
            "LinkedInBot",
            "preview",
        ),
    ],
)
def test_named_bots_of_each_category(classifier, agent, name, category):
    assert classifier.classify(agent) == Bot(name, category)


@pytest.mark.parametrize(
    "agent",
    [
        "curl/8.5.0",
        "Wget/1.21.4",
        "python-requests/2.32.3",
        "Python/3.12 aiohttp/3.9.5",
        "python-httpx/0.27.0",
        "Python-urllib/3.12",
        "Go-http-client/1.1",
        "Java/17.0.6",
        "okhttp/4.12.0",
        "Apache-HttpClient/4.5.14 (Java/17.0.6)",
        "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
        "node-fetch",
        "axios/1.7.2",
        "got (https://github.com/sindresorhus/got)",
        "HTTPie/3.2.2",
        "libwww-perl/6.77",
        "PHP-Curl-Class/4.13.0 (+https://github.com/php-curl-class/php-curl-class) PHP/7.3.19 curl/7.58.0",
    ],
)
def test_http_clients_of_back_end_jobs_are_not_bots(classifier, agent):
    assert classifier.classify(agent) is None


@pytest.mark.parametrize("agent", [None, "", CHROME])
def test_no_agent_or_a_browser_is_a_person(classifier, agent):
    assert classifier.classify(agent) is None


def test_a_browser_reporting_webdriver_is_headless(classifier):
    assert classifier.classify(CHROME, webdriver=True) == WEBDRIVER == Bot("WebDriver", "headless")
    assert classifier.classify(None, webdriver=True) == WEBDRIVER


def test_a_known_bot_keeps_its_own_name_with_webdriver(classifier):
    assert classifier.classify("Twitterbot/1.0", webdriver=True) == Bot("Twitterbot", "preview")


def test_the_teams_patterns_come_first():
    classifier = BotClassifier(["acme-uptime", "^curl/", "googlebot"])
    assert classifier.classify("ACME-Uptime/2.0").as_json() == {"name": "ACME-Uptime", "category": "custom"}
    # a team can flag what is let through by default, and rename a known bot its own way
    assert classifier.classify("curl/8.5.0") == Bot("curl/", "custom")
    assert classifier.classify("Googlebot/2.1").category == "custom"
    assert classifier.classify(CHROME) is None


def test_a_bad_custom_pattern_stops_the_classifier():
    with pytest.raises(ValueError, match="pattern 'acme\\(' is not a valid regular expression"):
        BotClassifier(["acme("])


def test_each_distinct_agent_is_classified_once():
    classifier = BotClassifier()
    for _ in range(3):
        classifier.classify("Twitterbot/1.0")
        classifier.classify(CHROME)
        classifier.classify(CHROME, webdriver=True)
    info = classifier.cache_info()
    assert (info.misses, info.hits, info.currsize, info.maxsize) == (2, 7, 2, CACHE_SIZE)


def test_the_cache_forgets_the_least_recently_seen_agent():
    classifier = BotClassifier(cache_size=2)
    for agent in ("Twitterbot/1.0", CHROME, "Twitterbot/1.0", "curl/8.5.0", CHROME):
        classifier.classify(agent)
    assert classifier.cache_info().misses == 4  # CHROME was evicted by curl, Twitterbot was not


def test_only_the_start_of_a_long_agent_is_classified_and_kept():
    classifier = BotClassifier()
    padded = CHROME + " " + "x" * MAX_USER_AGENT_LENGTH
    assert classifier.classify(padded + " Googlebot/2.1") is None
    assert classifier.classify(padded + " Twitterbot/1.0") is None
    assert classifier.cache_info().currsize == 1
    assert classifier.classify("Googlebot/2.1 " + padded) == Bot("Googlebot", "crawler")


def test_threads_sharing_a_classifier_get_the_answers_one_thread_gets():
    # gunicorn's threaded workers share one classifier and its cache.
    from concurrent.futures import ThreadPoolExecutor

    agents = ["Twitterbot/1.0", CHROME, "curl/8.5.0", "Googlebot/2.1", "ACME-Uptime/2.0"] * 200
    alone = BotClassifier(["acme-uptime"])
    expected = [alone.classify(agent) for agent in agents]
    shared = BotClassifier(["acme-uptime"], cache_size=3)  # small, so that threads also evict
    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(shared.classify, agents)) == expected
