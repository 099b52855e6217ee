"""Gzip bombs for the tests: a gigabyte of zeros in a megabyte of gzip, built in half a second.

Deflating a gigabyte takes zlib seconds. Zeros deflate to the same bytes
every time once the compressor's state is reset (a full flush), so one
segment is deflated and repeated; the CRC of the zeros is computed, not
guessed, so the result is a whole, valid gzip file that `gzip -d` inflates to
exactly `size` zero bytes.
"""

from __future__ import annotations

import functools
import struct
import zlib

_SEGMENT = 16 << 20
# A gzip member header: magic, deflate, no flags, no mtime, max compression, unknown OS.
_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
# An empty final block (fixed Huffman, end of block): ends the deflate stream.
_FINAL_BLOCK = b"\x03\x00"


@functools.cache
def gzip_of_zeros(size: int) -> bytes:
    """`size` zero bytes as gzip; `size` a multiple of 16 MiB, or smaller."""
    segment = min(size, _SEGMENT)
    assert size % segment == 0, "a whole number of segments"
    zeros = bytes(segment)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    deflated = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(size // segment):
        crc = zlib.crc32(zeros, crc)
    trailer = struct.pack("<II", crc, size & 0xFFFFFFFF)
    return _HEADER + deflated * (size // segment) + _FINAL_BLOCK + trailer
