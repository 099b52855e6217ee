"""What the erasure tests share: a person's events among others', in real files."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson

GONE = "u-gone"
KEPT = "u-kept"


def event(n: int, user: str = KEPT, **extra) -> bytes:
    return orjson.dumps({
        "eventType": "view", "userId": user, "eventId": f"e-{n}", "pingId": f"00000000-0000-4000-8000-{n:012d}",
        "receivedAt": f"2026-11-26T05:00:{n % 60:02d}.000Z", "client": {"ip": "203.0.113.7", "userAgent": "t"},
        **extra,
    }) + b"\n"


def write(path: Path, lines: list[bytes]) -> Path:
    data = b"".join(lines)
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path


def lines_of(path: Path) -> list[bytes]:
    data = path.read_bytes()
    return (gzip.decompress(data) if path.name.endswith(".gz") else data).splitlines(keepends=True)


def name(sequence: int, suffix: str = ".jsonl") -> str:
    return f"events-20261126T0500{sequence:02d}.000000Z-h-1-{sequence:06d}{suffix}"
