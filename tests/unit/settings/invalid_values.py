"""Setting values that are not valid, and the one line that says so:
shared by load_settings's, the CLI's and gunicorn's tests.
"""

from __future__ import annotations

STORAGE = "'sqlite://', 'memory://' or 'memcached://HOST:PORT[,HOST:PORT...]' with ports from 1 to 65535"
BIND = (
    "unix:PATH, or HOST:PORT with a port from 0 to 65535 and an IPv4 address, "
    "[IPv6] address or host name that resolves"
)
RATE_LIMIT = (
    "flask-limiter's notation with amounts from 1 to 1000000000 and periods from 1 second to 366 days, "
    "e.g. '1000 per minute' or '10/second;500/hour'"
)
EVENT_TYPES = "empty (any type) or a comma-separated list of event types of 1-128 printable characters"
MAX_EVENT_BYTES = "a whole number from 256 to 67108864 (the smallest event is 192 bytes as stored)"
WORKERS_NEED_SHARED_STORAGE = (
    "COLLECTOR_WORKERS > 1 needs COLLECTOR_RATE_LIMIT_STORAGE=sqlite:// or memcached://...: "
    "with memory:// each worker would count limits on its own"
)

# (variable, value, what the message says it expects)
INVALID_VALUES = [
    ("COLLECTOR_RATE_LIMIT_STORAGE", "memcached://nohost", STORAGE),
    ("COLLECTOR_RATE_LIMIT_STORAGE", "memcached://:11211", STORAGE),
    ("COLLECTOR_RATE_LIMIT_STORAGE", "memcached://host:notaport", STORAGE),
    ("COLLECTOR_RATE_LIMIT_STORAGE", "memcached://127.0.0.1:99999", STORAGE),
    ("COLLECTOR_RATE_LIMIT_STORAGE", "memcached://[::1:11211", STORAGE),
    ("COLLECTOR_RATE_LIMIT_STORAGE", "memcached://a:11211,b", STORAGE),
    ("COLLECTOR_RATE_LIMIT_STORAGE", "memcached://a:11211,", STORAGE),
    ("COLLECTOR_RATE_LIMIT_STORAGE", "memcached://a:0", STORAGE),
    ("COLLECTOR_RATE_LIMIT_STORAGE", "memcached://a:\u0661\u0661\u0662\u0661\u0661", STORAGE),
    ("COLLECTOR_RATE_LIMIT_STORAGE", "memcached://", STORAGE),
    ("COLLECTOR_RATE_LIMIT_STORAGE", "redis://localhost:6379", STORAGE),
    ("COLLECTOR_BIND", "nonsense", BIND),
    ("COLLECTOR_BIND", "127.0.0.1:99999", BIND),
    ("COLLECTOR_BIND", "host:notaport", BIND),
    ("COLLECTOR_BIND", "nonsense.invalid:8000", BIND),  # .invalid never resolves (RFC 6761)
    ("COLLECTOR_BIND", "999.0.0.1:8000", BIND),
    ("COLLECTOR_BIND", "::1:8000", BIND),
    ("COLLECTOR_BIND", "[::1:8000", BIND),
    ("COLLECTOR_BIND", ":8000", BIND),
    ("COLLECTOR_BIND", "unix:", BIND),
    ("COLLECTOR_BIND", "", BIND),
    ("COLLECTOR_MAX_EVENTS", "\u0661\u0662\u0663", "a whole number from 1 to 100000"),
    ("COLLECTOR_THREADS", "+4", "a whole number from 1 to 256"),
    ("COLLECTOR_ROTATE_BYTES", "1_000_000", "a whole number from 1 to 1099511627776"),
    ("COLLECTOR_TRUSTED_PROXIES", "\uff11", "a whole number from 0 to 16"),
    ("COLLECTOR_RATE_LIMIT_IPV6_PREFIX", "\u0666\u0664", "a prefix length from 1 to 128"),
    ("COLLECTOR_ROTATE_SECONDS", "\u0661\u0662", "a number of seconds from 1 to 31536000"),
    ("COLLECTOR_ROTATE_SECONDS", "1e3", "a number of seconds from 1 to 31536000"),
    ("COLLECTOR_RETENTION_DAYS", "inf", "empty (off) or a number of days from 0.001 to 36500"),
    ("COLLECTOR_WORKERS", "\u0663", "'auto' or a whole number from 1 to 256"),
    ("COLLECTOR_RATE_LIMIT", "5 per 0 minute", RATE_LIMIT),
    ("COLLECTOR_RATE_LIMIT", "5/0 minutes", RATE_LIMIT),
    ("COLLECTOR_RATE_LIMIT", "0 per minute", RATE_LIMIT),
    ("COLLECTOR_RATE_LIMIT", "10/second;0/hour", RATE_LIMIT),
    ("COLLECTOR_EVENT_TYPES", ",,,", EVENT_TYPES),
    ("COLLECTOR_EVENT_TYPES", " , ,", EVENT_TYPES),
    ("COLLECTOR_MAX_EVENT_BYTES", "100", MAX_EVENT_BYTES),
    ("COLLECTOR_MAX_EVENT_BYTES", "255", MAX_EVENT_BYTES),
    ("COLLECTOR_BOTS", "block", "one of flag, refuse, off"),
    ("COLLECTOR_BOT_PATTERNS", "acme(", "pattern 'acme(' is not a valid regular expression: "
     "missing ), unterminated subpattern at position 4"),
    ("COLLECTOR_BOT_PATTERNS", "acme,.*", "pattern '.*' matches an empty User-Agent, so it would flag every request"),
    ("COLLECTOR_BOT_PATTERNS", ",,", "empty (no patterns of the team's own) or comma-separated regular expressions"),
    ("COLLECTOR_DATA_DIR", "", "a directory path (empty would mean the current directory)"),
    ("COLLECTOR_DATA_DIR", "  ", "a directory path (empty would mean the current directory)"),
    # Not writable even by root, unlike a chmod-ed directory.
    ("COLLECTOR_DATA_DIR", "/proc/1/data", "a directory that can be written, or created: /proc/1 is not writable"),
]


def not_valid(variable: str, value: str, expected: str) -> str:
    """The one line load_settings's error says for a value that is not valid."""
    return f"{variable}={value!r} is not valid: expected {expected}"
