"""The HTTP client libraries and tools that back-end jobs use: not bots by default.

A team's own cron job or worker that sends events with curl, python-requests,
Go's net/http or Java's client is a source of events like any other, not a
crawler. crawler-user-agents lists some of these libraries (tagged
`http-library`), and uap-core's spider rule catches `^Java/` and
`Python-urllib`: neither list is about bots in our sense here. A team that does
want them flagged names them in COLLECTOR_BOT_PATTERNS (checked first).

Two rules, each enough alone. crawler-user-agents' `http-library` entries
flag nothing by themselves (known.py). And an agent that starts with a client's
product token here is matched against the list only after that token, so a
later upstream entry for "curl" flags nothing either, while a bot that names
itself after the token ("python-requests/2.31 (compatible; ExampleBot/1.0)")
still shows.
"""

from __future__ import annotations

import re

_BACKEND_CLIENT = re.compile(
    r"""^(
        curl | wget2? | httpie                                  # command-line tools in scripts
      | python-requests | python-httpx | python-urllib | urllib3
      | (?:python/[\d.]+\ )?aiohttp                           # "Python/3.9 aiohttp/3.7.3"
      | go-http-client                                        # Go's net/http
      | java | apache-httpclient | okhttp | ahc | jetty       # Java's: the JDK, Apache, Square, async-http-client
      | reactornetty | java-http-client | google-http-java-client
      | node-fetch | axios | undici | got | node | deno | bun  # JavaScript runtimes and libraries
      | ruby | faraday | rest-client | typhoeus               # Ruby
      | guzzlehttp | php-curl-class | php                     # PHP
      | libwww-perl | lwp-trivial | http-tiny                 # Perl
      | dart | restsharp | reqwest | hyper | dotnet | winhttp  # Dart, .NET, Rust
    )(?:[/\s(;,]|$)""",
    re.IGNORECASE | re.VERBOSE,
)


def backend_client_end(user_agent: str) -> int:
    """Where the agent's back-end client token ends ("curl" in "curl/8.5.0": 4), or 0 if it starts with none."""
    found = _BACKEND_CLIENT.match(user_agent)
    return found.end(1) if found else 0
