"""Gzipped bodies through gunicorn: stored as sent, chunked or not; bombs and bad gzip refused quickly."""

from __future__ import annotations

import gzip
import os
import time
import zlib
from pathlib import Path

import orjson
import pytest

from tests.bombs import gzip_of_zeros

pytestmark = pytest.mark.system

BATCH = {"messageBody": [{"eventType": "page_view", "properties": {"n": n, "path": "/pricing"}} for n in range(100)]}
GZIP = {"Content-Encoding": "gzip"}


def chunks(data: bytes, size: int = 4096):
    for start in range(0, len(data), size):
        yield data[start : start + size]


def cpu_seconds(pids) -> float:
    """CPU time (user and system, every thread) the processes have used so far."""
    ticks = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime: fields 14 and 15 of proc(5)
    return ticks / os.sysconf("SC_CLK_TCK")


def cpu_seconds_to_inflate(data: bytes) -> float:
    """CPU time this process takes to inflate all of a gzip body, a megabyte at a time."""
    started = time.process_time()
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    while data:
        inflater.decompress(data, 1 << 20)
        data = inflater.unconsumed_tail
    return time.process_time() - started


def test_a_gzipped_batch_is_stored_as_sent_with_a_length_or_chunked(start_service):
    service = start_service()
    compressed = gzip.compress(orjson.dumps(BATCH))
    assert service.post(compressed, headers=GZIP).status_code == 201
    assert service.post(chunks(compressed), headers=GZIP).status_code == 201  # Transfer-Encoding: chunked
    stored = [{"eventType": e["eventType"], "properties": e["properties"]} for e in service.events()]
    assert stored == BATCH["messageBody"] * 2


def test_a_gigabyte_gzip_bomb_gets_413_quickly_and_the_service_carries_on(start_service):
    service = start_service()
    bomb = gzip_of_zeros(1 << 30)
    before = cpu_seconds(service.worker_pids())
    response = service.post(bomb, headers=GZIP)
    spent = cpu_seconds(service.worker_pids()) - before
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"
    assert response.json()["message"] == "request body is larger than 1048576 bytes once decompressed"
    # Inflating the whole gigabyte takes zlib most of a second of CPU;
    # stopping at the limit, a few milliseconds. CPU time, measured against
    # this machine's own inflating: a wall-clock bound fails on a busy machine.
    assert spent < cpu_seconds_to_inflate(bomb) / 4
    # Streamed (chunked), the same.
    assert service.post(chunks(bomb, 65536), headers=GZIP).status_code == 413
    assert service.post(gzip.compress(orjson.dumps(BATCH)), headers=GZIP).status_code == 201
    assert len(service.events()) == 100


@pytest.mark.parametrize(
    "data",
    [b"\x1f\x8b\x08\x00corrupt", gzip.compress(orjson.dumps(BATCH))[:-20], gzip.compress(orjson.dumps(BATCH)) + b"x"],
    ids=["corrupt", "truncated", "trailing garbage"],
)
def test_bad_gzip_gets_400_invalid_gzip_and_nothing_is_stored(start_service, data):
    service = start_service()
    response = service.post(data, headers=GZIP)
    assert (response.status_code, response.json()["code"]) == (400, "invalid_gzip")
    assert service.events() == []
