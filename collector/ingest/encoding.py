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
and `gzip -d` read them, empty members included; the work stays linear in the
body however many members it has.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

from ..errors import BODY_TOO_LARGE, INVALID_GZIP, CollectorError

# The Content-Encoding values a body may carry: none, or gzip (x-gzip is its
# old name, which RFC 9110 asks recipients to take as gzip).
IDENTITY = frozenset({"", "identity"})
GZIP = frozenset({"gzip", "x-gzip"})
DECODED = IDENTITY | GZIP

# zlib's wbits for a gzip header and trailer (16) around a 32 KiB window (15).
_GZIP_WBITS = 16 + zlib.MAX_WBITS
_GZIP_MAGIC = b"\x1f\x8b"
# The input offered to zlib at a time: from a little more than a tiny member
# (an empty one is 20 bytes) up to a size that keeps each call short.
_FIRST_WINDOW = 64
_LAST_WINDOW = 64 << 10


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


def gunzip(data: bytes, limit: int, inflaters: Callable[[int], Any] = zlib.decompressobj) -> bytes:
    """`data` inflated, never to more than `limit` bytes.

    `inflaters` makes zlib's decompressor objects (tests count their work).
    :raises CollectorError: 413 `body_too_large` as soon as the inflated body
        passes `limit`; 400 `invalid_gzip` for data that is not one or more
        whole gzip members.
    """
    view = memoryview(data)
    parts: list[bytes] = []
    size = offset = 0
    while True:
        offset, size = _inflate_member(inflaters(_GZIP_WBITS), view, offset, limit, size, parts)
        if offset == len(view):
            return b"".join(parts)
        if view[offset : offset + 2] != _GZIP_MAGIC:
            raise CollectorError(
                INVALID_GZIP, f"request body has {len(view) - offset} bytes after the end of its gzip data"
            )


def _inflate_member(
    inflater: Any, view: memoryview, offset: int, limit: int, size: int, parts: list[bytes]
) -> tuple[int, int]:
    """Inflate the gzip member at `offset` into `parts`: (the offset after it, the inflated size so far).

    The member is offered in windows that double from `_FIRST_WINDOW`, never
    the whole rest of the body: zlib copies what follows a member's end
    (`unused_data`), and copying the rest at every one of many tiny members
    would cost time in the square of the body. So the input zlib is given or
    copies back stays within a few times the member's own size.
    """
    window = _FIRST_WINDOW
    while not inflater.eof:
        if offset == len(view):
            # Every byte read before the member's end.
            raise CollectorError(INVALID_GZIP, "request body's gzip data ends before the end of its stream")
        piece = view[offset : offset + window]
        try:
            # One byte more than the room left: enough to know the limit is passed.
            chunk = inflater.decompress(piece, limit - size + 1)
        except zlib.error as error:
            raise CollectorError(INVALID_GZIP, f"request body is not valid gzip: {error}") from None
        size += len(chunk)
        if size > limit:
            raise CollectorError(BODY_TOO_LARGE, f"request body is larger than {limit} bytes once decompressed")
        parts.append(chunk)
        left = inflater.unused_data if inflater.eof else inflater.unconsumed_tail
        offset += len(piece) - len(left)
        window = min(2 * window, _LAST_WINDOW)
    return offset, size
