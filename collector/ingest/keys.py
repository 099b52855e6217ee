"""Write keys: with COLLECTOR_API_KEYS or COLLECTOR_API_KEYS_FILE set, POST /collect/event needs one.

A key travels in `Authorization: Bearer <key>`, `X-Collector-Key: <key>` or
`?writeKey=<key>` (for `navigator.sendBeacon` and `<img>` pixels, which cannot
set a header); the first of these the request carries is the one checked. A
request without a valid one gets 401 (`missing_write_key`, `invalid_write_key`)
with `WWW-Authenticate: Bearer`, and nothing of it is read or stored.

Checked before the rate limit (`WriteKeys.require_write_key` is an app-wide
before_request that collector/stack.py places ahead of flask-limiter's): a
stranger costs a header read and a hash, less than the limit's own check, and
touches neither memcached nor the body (nor, with COLLECTOR_RATE_LIMIT_COST=event,
gets it parsed); it does not use up the budget of an address it shares with
real clients (a NAT, a proxy); and with COLLECTOR_RATE_LIMIT_BY=key every
request that reaches the limiter has a key to be counted for. The price: 401s
are not rate-limited, so guesses are not slowed down here. Keys are random
strings of 16 to 256 characters, not passwords: guessing one is hopeless
whatever the rate (and nginx's `limit_req` can cap 401s if wanted).

Compared in constant time: the presented key is hashed (SHA-256) and the
digest looked up in a dict of the configured keys' digests. How long the
lookup takes depends only on the digest of what was sent, which an attacker
cannot steer towards a configured key's digest without breaking SHA-256; it
says nothing about the keys, including their lengths, and it costs the same
for one key or ten thousand (a file of keys per customer), where a
`hmac.compare_digest` against every key would cost a comparison per key.

Never logged, never stored: a stored event carries `client.keyId`, the first 8
hex digits of the key's SHA-256, which tells keys apart (to find a leaked one's
traffic) without revealing them. The access logs leave write keys out (see
`collector.ops.access_log`). A refused key's id is left on the request's
record for its dead letter (`triedKeyId`): which key a client tried, a
revoked or mistyped one, never the key.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Callable, Iterable
from urllib.parse import unquote

import flask
from werkzeug.exceptions import HTTPException

from ..errors import INVALID_WRITE_KEY, MISSING_WRITE_KEY, CollectorError
from ..request import record
from ..request.text import WRITE_KEY_PARAMETER
from .parsing import request_payload

logger = logging.getLogger(__name__)

KEY_ID_HEX_DIGITS = 8
QUERY_PARAMETER = WRITE_KEY_PARAMETER
SEGMENT_PREFIX = "/v1/"
HEADER = "X-Collector-Key"
COLLECT_BLUEPRINT = "collect"  # /collect/event and the Segment-compatible /v1/ routes

_CHALLENGE = 'Bearer realm="collector"'


def key_id(key: str) -> str:
    """The short, public id of a key: the first hex digits of its SHA-256."""
    # surrogatepass: a refused key's id is taken too (its dead letter), and a key sent in a query may be anything.
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:KEY_ID_HEX_DIGITS]


class WriteKeys:
    """The collector's write keys, by the SHA-256 of each; empty when no key is needed."""

    def __init__(self, keys: Iterable[str]) -> None:
        self._ids = {hashlib.sha256(key.encode()).digest(): key_id(key) for key in keys}
        if len(set(self._ids.values())) < len(self._ids):
            logger.warning("two write keys share a key id (%d hex digits of SHA-256): stored events and "
                           "COLLECTOR_RATE_LIMIT_BY=key cannot tell them apart; replace one", KEY_ID_HEX_DIGITS)

    def __bool__(self) -> bool:
        return bool(self._ids)

    def __len__(self) -> int:
        return len(self._ids)

    def identify(self, presented: str) -> str | None:
        """The id of `presented` if it is one of the keys, else None (see the module's docstring)."""
        return self._ids.get(hashlib.sha256(presented.encode("utf-8", "surrogatepass")).digest())

    def id_of(self, environ: dict) -> str | None:
        """The key id of a WSGI request's valid key, or None; never raises.

        The rate limit keys on it (COLLECTOR_RATE_LIMIT_BY=key), also from its
        WSGI layer, before Flask; `check` leaves it on the request's record for them.
        """
        checked = record.of(environ).key_id
        if checked is not None:
            return checked
        presented = presented_key(environ)
        return self.identify(presented) if presented else None

    def require_write_key(self) -> None:
        """before_request: refuse a request to collect without a valid key (run before the limit's check).

        :raises CollectorError: 401, see `check`.
        """
        request = flask.request
        # A CORS preflight (OPTIONS) carries no key, by the browsers' rules.
        if request.blueprint == COLLECT_BLUEPRINT and request.method != "OPTIONS":
            self.check(request.environ, body_key)

    def check(self, environ: dict, body_key: Callable[[], str | None] | None = None) -> str:
        """The key id of the request's key, also left on the request's record (in `environ`).

        `body_key` reads a key from the body when no header or query has one
        (Segment's `writeKey`): asked last, since it reads and parses the body.

        :raises CollectorError: 401 `missing_write_key` or `invalid_write_key`, with WWW-Authenticate.
        """
        presented = presented_key(environ) or (body_key() if body_key else None)
        if not presented:
            raise CollectorError(
                MISSING_WRITE_KEY,
                f"a write key is required: send it as 'Authorization: Bearer <key>', '{HEADER}: <key>' "
                f"or ?{QUERY_PARAMETER}=<key>",
                headers={"WWW-Authenticate": _CHALLENGE},
            )
        found = self.identify(presented)
        if found is None:
            record.of(environ).tried_key_id = key_id(presented)
            raise CollectorError(
                INVALID_WRITE_KEY,
                "the write key is not valid for this collector",
                headers={"WWW-Authenticate": _CHALLENGE + ', error="invalid_token"'},
            )
        record.of(environ).key_id = found
        return found


def presented_key(environ: dict) -> str | None:
    """The key a WSGI request carries, from the first place that has one; None if none does."""
    authorization = environ.get("HTTP_AUTHORIZATION")
    if authorization:
        scheme, _, credentials = authorization.strip().partition(" ")
        if scheme.lower() == "bearer" and credentials.strip():
            return credentials.strip()
        # HTTP Basic only where Segment's SDKs send it: elsewhere it stays a key sent the wrong way.
        segment_route = environ.get("PATH_INFO", "").startswith(SEGMENT_PREFIX)
        if scheme.lower() == "basic" and segment_route and (user := basic_user(credentials.strip())):
            return user
    header = environ.get("HTTP_X_COLLECTOR_KEY", "").strip()
    if header:
        return header
    return query_key(environ.get("QUERY_STRING", ""))


def basic_user(credentials: str) -> str | None:
    """The user name of HTTP Basic credentials (`base64(key:)`), as Segment's SDKs send their write key."""
    try:
        decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    return decoded.partition(":")[0].strip() or None


def query_key(query: str) -> str | None:
    """The value of the first `writeKey=` in a raw query string, percent-decoded.

    The name is matched as written, never decoded (`write%4Bey=` is not it), so
    that the access log's redaction, which matches the same literal name,
    hides every key this accepts.
    """
    if QUERY_PARAMETER not in query:
        return None
    for pair in query.split("&"):
        name, equals, value = pair.partition("=")
        if name == QUERY_PARAMETER and equals:
            # `unquote`, not `unquote_plus`: a key may hold a `+`, and never a space.
            return unquote(value, encoding="latin-1").strip() or None
    return None


def body_key() -> str | None:
    """Segment's `writeKey` in the body of a /v1/ request, for SDKs that send it only there.

    Read only when the request has no key in a header or the query (Segment's
    SDKs send HTTP Basic too): the body is then read and parsed before the rate
    limit, which a stranger without any key could not make happen otherwise.
    """
    if not flask.request.path.startswith(SEGMENT_PREFIX):
        return None
    try:
        payload = request_payload(flask.request)
    except (CollectorError, HTTPException):
        return None  # the view refuses the body with its own 4xx, once the key is checked
    key = payload.get(QUERY_PARAMETER) if isinstance(payload, dict) else None
    return key.strip() or None if isinstance(key, str) else None


def current_key_id() -> str | None:
    """The key id of the request being handled, once checked; None without keys."""
    return record.current().key_id
