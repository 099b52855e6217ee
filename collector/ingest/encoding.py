"""Request bodies sent compressed: `Content-Encoding: gzip`, inflated under the body size limit.

A compressed body is bounded twice. The body as sent is the raw body, which
`parsing.read_body` already refuses past COLLECTOR_MAX_BODY_BYTES. The
inflated body is held to the same limit *while* it is inflated: zlib is asked
for at most one byte more than the room left (`max_length`), so a gzip bomb
(a megabyte of gzip holds a gigabyte of zeros) costs at most the limit in
memory and time, never what it would inflate to, and gets the same 413 as a
plain body that large.

A body that is not exactly gzip (corrupt data, a stream cut short, bytes after
its end) is refused with 400 `invalid_gzip`, never stored in part. Several
gzip members one after the other (`cat a.gz b.gz`) are one body, as RFC 1952
and `gzip -d` read them.
"""

from __future__ import annotations

import zlib

from ..errors import BODY_TOO_LARGE, INVALID_GZIP, CollectorError

# The Content-Encoding values a body may carry: none, or gzip (x-gzip is its
# old name, which RFC 9110 asks recipients to take as gzip).
IDENTITY = frozenset({"", "identity"})
GZIP = frozenset({"gzip", "x-gzip"})
DECODED = IDENTITY | GZIP

# zlib's wbits for a gzip header and trailer (16) around a 32 KiB window (15).
_GZIP_WBITS = 16 + zlib.MAX_WBITS
_GZIP_MAGIC = b"\x1f\x8b"


def coding_of(content_encoding: str | None) -> str:
    """The Content-Encoding header as compared: lowercase, without surrounding spaces; "" when absent."""
    return (content_encoding or "").strip().lower()


def decode_body(body: bytes, content_encoding: str | None, limit: int) -> bytes:
    """The body as the client meant it: inflated if it was sent gzipped.

    `content_encoding` has passed `parsing.check_codings`: it is one of `DECODED`.
    :raises CollectorError: what `gunzip` raises.
    """
    if coding_of(content_encoding) in GZIP and body:
        # An empty body stays empty: it gets the same `empty_body` as a plain one.
        return gunzip(body, limit)
    return body


def gunzip(data: bytes, limit: int) -> bytes:
    """`data` inflated, never to more than `limit` bytes.

    :raises CollectorError: 413 `body_too_large` as soon as the inflated body
        passes `limit`; 400 `invalid_gzip` for data that is not one or more
        whole gzip members.
    """
    parts: list[bytes] = []
    size = 0
    while True:
        inflater = zlib.decompressobj(_GZIP_WBITS)
        size = _inflate_member(inflater, data, limit, size, parts)
        rest = inflater.unused_data
        if not rest:
            return b"".join(parts)
        if not rest.startswith(_GZIP_MAGIC):
            raise CollectorError(
                INVALID_GZIP, f"request body has {len(rest)} bytes after the end of its gzip data"
            )
        data = rest


def _inflate_member(inflater, data: bytes, limit: int, size: int, parts: list[bytes]) -> int:
    """Inflate one gzip member into `parts`; the inflated size so far (`size` plus this member)."""
    while not inflater.eof:
        try:
            # One byte more than the room left: enough to know the limit is passed.
            chunk = inflater.decompress(data, limit - size + 1)
        except zlib.error as error:
            raise CollectorError(INVALID_GZIP, f"request body is not valid gzip: {error}") from None
        size += len(chunk)
        if size > limit:
            raise CollectorError(BODY_TOO_LARGE, f"request body is larger than {limit} bytes once decompressed")
        parts.append(chunk)
        data = inflater.unconsumed_tail
        if not data and not chunk:
            # Every byte read and nothing more to give, before the member's end.
            raise CollectorError(INVALID_GZIP, "request body's gzip data ends before the end of its stream")
    return size
