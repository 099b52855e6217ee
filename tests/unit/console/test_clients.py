"""The client's name the console shows and searches: a bot's name, else the browser's or the app's."""

from __future__ import annotations

import pytest

from collector.console.clients import client_name

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
EDGE = CHROME + " Edg/131.0.2903.86"
SAFARI = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/18.1 Safari/605.1.15")
IOS_CHROME = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
              "CriOS/126.0.6478.153 Mobile/15E148 Safari/604.1")


@pytest.mark.parametrize(
    ("client", "name"),
    [
        ({"userAgent": FIREFOX}, "Firefox"),
        ({"userAgent": CHROME}, "Chrome"),
        ({"userAgent": EDGE}, "Edge"),
        ({"userAgent": SAFARI}, "Safari"),
        ({"userAgent": IOS_CHROME}, "Chrome"),
        ({"userAgent": "curl/8.5.0"}, "curl"),
        ({"userAgent": "ShopApp/3.2 (iPhone; iOS 17.5)"}, "ShopApp"),
        ({"userAgent": CHROME, "bot": {"name": "Googlebot", "category": "crawler"}}, "Googlebot"),
        ({"userAgent": ""}, ""),
        ({}, ""),
        (None, ""),
        ("text", ""),
    ],
)
def test_the_name_is_the_bots_else_the_browsers_else_the_first_product(client, name):
    assert client_name(client) == name


def test_a_long_agent_gives_a_bounded_name():
    assert len(client_name({"userAgent": "x" * 10_000})) <= 64
