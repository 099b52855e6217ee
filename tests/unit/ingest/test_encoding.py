"""Gzipped bodies: inflated whole, within the body limit, or refused with a code."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib

import pytest

from collector.errors import CollectorError
from collector.ingest.encoding import decode_body, gunzip
from tests.bombs import gzip_of_zeros

LIMIT = 1_048_576
BODY = b'{"messageBody": [{"eventType": "page_view", "properties": {"path": "/pricing"}}]}'


def refused(data: bytes, limit: int = LIMIT) -> tuple[int, str, str]:
    with pytest.raises(CollectorError) as caught:
        gunzip(data, limit)
    return caught.value.status, caught.value.code, caught.value.message


def test_the_test_bomb_is_valid_gzip():
    # The bombs below are real: inflated whole (outside the service) they are what they say.
    assert zlib.decompress(gzip_of_zeros(64 << 20), 31) == bytes(64 << 20)


def test_a_gzipped_body_is_inflated_as_sent():
    assert gunzip(gzip.compress(BODY), LIMIT) == BODY


def test_several_gzip_members_are_one_body():
    assert gunzip(gzip.compress(BODY[:20]) + gzip.compress(BODY[20:]), LIMIT) == BODY


@pytest.mark.parametrize("coding", ["gzip", "GZIP ", "x-gzip"])
def test_decode_body_inflates_only_gzip(coding):
    assert decode_body(gzip.compress(BODY), coding, LIMIT) == BODY
    assert decode_body(BODY, None, LIMIT) == BODY
    assert decode_body(BODY, "identity", LIMIT) == BODY


def test_an_empty_gzip_body_stays_empty_for_the_parser_to_refuse():
    assert decode_body(b"", "gzip", LIMIT) == b""


def test_a_body_inflating_to_exactly_the_limit_is_accepted():
    assert gunzip(gzip.compress(b"x" * 1000), 1000) == b"x" * 1000


def test_a_body_inflating_past_the_limit_is_too_large():
    assert refused(gzip.compress(b"x" * 1001), 1000) == (
        413,
        "body_too_large",
        "request body is larger than 1000 bytes once decompressed",
    )


def test_a_gzip_bomb_is_refused_without_being_inflated_past_the_limit():
    bomb = gzip_of_zeros(10 << 20)
    assert len(bomb) < 20_000  # ten megabytes of zeros in ~10 KB
    counter = CountingInflaters()
    tracemalloc.start()
    try:
        with pytest.raises(CollectorError) as caught:
            gunzip(bomb, LIMIT, inflaters=counter)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (caught.value.status, caught.value.code) == (413, "body_too_large")
    # Never more than the limit (plus one chunk of zlib's output) in memory, nor the work to inflate it all:
    # counted, not timed (CI is a busy machine).
    assert peak < 3 * LIMIT
    assert counter.bytes_out <= LIMIT + 1


def test_a_gigabyte_bomb_under_the_raw_limit_is_refused_after_inflating_no_more_than_the_limit():
    bomb = gzip_of_zeros(1 << 30)
    assert len(bomb) < LIMIT  # it passes the limit on the body as sent
    counter = CountingInflaters()
    with pytest.raises(CollectorError) as caught:
        gunzip(bomb, LIMIT, inflaters=counter)
    assert (caught.value.status, caught.value.code) == (413, "body_too_large")
    assert counter.bytes_out <= LIMIT + 1
    assert counter.bytes_seen <= 2 * len(bomb)


def test_corrupt_gzip_is_refused():
    status, code, message = refused(b"\x1f\x8b\x08\x00garbage that is no deflate stream")
    assert (status, code) == (400, "invalid_gzip")
    assert message.startswith("request body is not valid gzip: ")


def test_a_body_that_is_not_gzip_at_all_is_refused():
    status, code, message = refused(BODY)
    assert (status, code) == (400, "invalid_gzip")
    assert message == "request body is not valid gzip: Error -3 while decompressing data: incorrect header check"


def test_a_truncated_stream_is_refused():
    assert refused(gzip.compress(BODY)[:-10]) == (
        400,
        "invalid_gzip",
        "request body's gzip data ends before the end of its stream",
    )


def test_a_stream_without_its_trailer_is_refused():
    # The deflate data is whole; the CRC and length that end a gzip member are not there.
    assert refused(gzip.compress(BODY)[:-8])[:2] == (400, "invalid_gzip")


def test_a_wrong_checksum_is_refused():
    data = bytearray(gzip.compress(BODY))
    data[-8] ^= 0xFF
    status, code, message = refused(bytes(data))
    assert (status, code) == (400, "invalid_gzip")
    assert "incorrect data check" in message


def test_trailing_garbage_is_refused():
    assert refused(gzip.compress(BODY) + b"trailing") == (
        400,
        "invalid_gzip",
        "request body has 8 bytes after the end of its gzip data",
    )


def test_trailing_zeros_are_refused_too():
    assert refused(gzip.compress(BODY) + b"\0" * 4)[:2] == (400, "invalid_gzip")


def test_an_empty_member_is_valid_gzip():
    # `gzip.compress(b"")` is a whole member holding nothing, as `printf '' | gzip` makes.
    assert gunzip(gzip.compress(b""), LIMIT) == b""
    assert gunzip(gzip.compress(BODY[:20]) + gzip.compress(b"") + gzip.compress(BODY[20:]), LIMIT) == BODY


def test_many_tiny_members_are_one_body():
    parts = [b"%d," % n for n in range(5000)]
    data = b"".join(gzip.compress(part) for part in parts)
    assert gunzip(data, LIMIT) == b"".join(parts)


def test_a_truncated_member_after_whole_ones_is_refused():
    data = gzip.compress(BODY) * 3
    assert refused(data[:-10])[:2] == (400, "invalid_gzip")


class CountingInflaters:
    """`zlib.decompressobj` that counts the bytes handed to and copied out of each inflater."""

    def __init__(self):
        self.bytes_seen = 0
        self.bytes_out = 0

    def __call__(self, wbits):
        return _CountingInflater(zlib.decompressobj(wbits), self)


class _CountingInflater:
    def __init__(self, inflater, counter):
        self._inflater, self._counter = inflater, counter

    def decompress(self, data, max_length=0):
        self._counter.bytes_seen += len(data)
        out = self._inflater.decompress(data, max_length)
        self._counter.bytes_out += len(out)
        return out

    def __getattr__(self, name):
        value = getattr(self._inflater, name)
        if name in ("unused_data", "unconsumed_tail"):
            self._counter.bytes_seen += len(value)  # a copy of the input left over
        return value


@pytest.mark.parametrize("members", [1_000, 10_000])
def test_inflating_many_tiny_members_handles_each_input_byte_a_bounded_number_of_times(members):
    # One client's 1 MiB of ~20-byte members must not cost time in the square of its size:
    # the input bytes zlib is given or copies back, summed over every member, stay within
    # a constant times the body (before: each member re-copied the whole rest of the body).
    data = b"".join(gzip.compress(b"%d" % n) for n in range(members))
    counter = CountingInflaters()
    assert gunzip(data, LIMIT, inflaters=counter) == b"".join(b"%d" % n for n in range(members))
    assert counter.bytes_seen <= 40 * len(data)
