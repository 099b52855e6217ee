"""The fallback: a token that ends in bot, spider or crawler names a crawler."""

from __future__ import annotations

import pytest

from collector.bots.generic import self_named


@pytest.mark.parametrize(
    "agent, name",
    [
        ("Mozilla/5.0 (compatible; SputnikBot/2.3; +http://corp.sputnik.ru/webmaster)", "SputnikBot"),
        ("Mozilla/5.0 (compatible; EtaoSpider/1.0; http://open.etao.com/dev/EtaoSpider)", "EtaoSpider"),
        ("NL-Crawler", "NL-Crawler"),
        ("Mozilla/5.0 (compatible; archive.bibalex.org_bot; +http://www.test.com)", "archive.bibalex.org_bot"),
    ],
)
def test_an_agent_calling_itself_a_bot_is_a_crawler(agent, name):
    assert self_named(agent).as_json() == {"name": name, "category": "crawler"}


@pytest.mark.parametrize(
    "agent",
    [
        # CUBOT phones
        "Mozilla/5.0 (Linux; Android 4.2.2; CUBOT X6 Build/JDQ39) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/34.0.1847.114 Mobile Safari/537.36",
        "Mozilla/5.0 (Linux; U; Android 4.3; de-de; Cubot One Android 4.3 Build/JOP40D) AppleWebKit/534.30",
        # the words must end the token
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Botim/5.2",
        "Mozilla/5.0 (X11; Linux x86_64) Roboto/1.0 Crawlerful",
    ],
)
def test_a_word_inside_a_name_is_no_bot(agent):
    assert self_named(agent) is None


def test_the_search_starts_where_told():
    agent = "Go-http-client/1.1 (+https://example.test/spider)"
    assert self_named(agent, len("Go-http-client")).name == "spider"
    assert self_named("ExampleBot/1 curl/8", len("ExampleBot/1 curl/8")) is None
