"""Back-end HTTP clients: recognised by the product token they start with."""

from __future__ import annotations

import pytest

from collector.bots.httpclients import backend_client_end


@pytest.mark.parametrize(
    "agent, token",
    [
        ("curl/8.5.0", "curl"),
        ("Wget/1.21.4", "Wget"),
        ("wget2/2.1.0", "wget2"),
        ("python-requests/2.32.3", "python-requests"),
        ("Python/3.12 aiohttp/3.9.5", "Python/3.12 aiohttp"),
        ("python-httpx/0.27.0", "python-httpx"),
        ("Python-urllib/3.12", "Python-urllib"),
        ("Go-http-client/2.0", "Go-http-client"),
        ("Java/17.0.6", "Java"),
        ("Java-http-client/17.0.6", "Java-http-client"),
        ("okhttp/4.12.0", "okhttp"),
        ("Apache-HttpClient/5.2.1 (Java/17.0.6)", "Apache-HttpClient"),
        ("node-fetch/1.0 (+https://github.com/bitinn/node-fetch)", "node-fetch"),
        ("node", "node"),
        ("axios/1.7.2", "axios"),
        ("got (https://github.com/sindresorhus/got)", "got"),
        ("undici", "undici"),
        ("Ruby", "Ruby"),
        ("GuzzleHttp/7", "GuzzleHttp"),
        ("Dart/3.4 (dart:io)", "Dart"),
    ],
)
def test_a_client_library_is_known_by_its_first_token(agent, token):
    assert agent[: backend_client_end(agent)] == token


@pytest.mark.parametrize(
    "agent",
    [
        "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        "Mozilla/5.0 (compatible; Linux x86_64; python-requests/2.32.3; RecipeRadar/0.1)",
        "http.rb/5.0.4 (Mastodon/4.2.1; +https://mastodon.social/)",
        "curlbot/1.0",
        "Javabot",
        "",
    ],
)
def test_an_agent_that_does_not_start_with_a_client_is_not_one(agent):
    assert backend_client_end(agent) == 0
