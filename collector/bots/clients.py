"""The HTTP client libraries and tools that back-end jobs use: not bots by default.

A team's own cron job or worker that sends events with curl, python-requests,
Go's net/http or Java's client is a source of events like any other, not a
crawler. crawler-user-agents lists some of these libraries (tagged
`http-library`), and uap-core's spider rule catches `^Java/` and
`Python-urllib`: neither list is about bots in our sense here. A team that does
want them flagged names them in COLLECTOR_BOT_PATTERNS (checked first).

Only an agent that *starts* with the library's product token is let through,
so a crawler that mentions the library it is built on further along
("2Bone_LinkChecker/1.0 libwww-perl/6.03", "http.rb/5.0 (Mastodon/4.2; ...)")
is still classified by what else it says.
"""

from __future__ import annotations

import re

_BACKEND_CLIENT = re.compile(
    r"""^(?:
        curl | wget | httpie                                  # command-line tools in scripts
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


def is_backend_client(user_agent: str) -> bool:
    """Whether the agent is an HTTP client library or tool by its first product token."""
    return _BACKEND_CLIENT.match(user_agent) is not None
