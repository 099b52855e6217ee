"""How fast `collector events forget` erases: `python3 bench/erasure_rate.py` (see `--help`).

Builds a store of `--megabytes` of stored lines (uncompressed) in `.jsonl.gz`
files of `--file-megabytes` each, with one person's events spread over every
file (the worst case: every file is rewritten), then times, on copies of it:

1. `collector events forget --dry-run` (reading every file once);
2. `collector events forget` (reading every file, rewriting each);
3. the shell's `zcat f | grep -v ID | gzip -6 > f.new` over the same files, one
   after the other: the speed of reading and rewriting the files once.

Prints the figures; nothing fails on a timing.
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
PERSON = "person-to-erase@example.com"


def build(data_dir: Path, megabytes: int, file_megabytes: int, every: int) -> tuple[int, int]:
    """The store: (events, of them the person's)."""
    data_dir.mkdir(parents=True)
    events = theirs = 0
    for number in range(max(1, megabytes // file_megabytes)):
        lines, size = [], 0
        while size < file_megabytes << 20:
            events += 1
            user = PERSON if events % every == 0 else f"user-{events % 50_000}@example.com"
            theirs += user == PERSON
            line = orjson.dumps({
                "eventType": "page_view", "userId": user, "anonymousId": str(uuid.uuid4()),
                "properties": {"path": f"/docs/{events % 997}", "title": "A page of the docs"},
                "eventId": str(uuid.uuid4()), "pingId": str(uuid.uuid4()),
                "receivedAt": f"2026-11-{1 + number % 28:02d}T05:00:{events % 60:02d}.000Z",
                "client": {"ip": f"203.0.113.{events % 250}", "userAgent": "Mozilla/5.0 (X11; Linux x86_64)"},
            }) + b"\n"
            lines.append(line)
            size += len(line)
        name = f"events-202611{1 + number % 28:02d}T050000.{number:06d}Z-bench-1-{number:06d}.jsonl.gz"
        (data_dir / name).write_bytes(gzip.compress(b"".join(lines), compresslevel=9))
    return events, theirs


def timed(command: list[str] | str, shell: bool = False) -> float:
    started = time.perf_counter()
    subprocess.run(command, shell=shell, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=1024, help="stored lines, uncompressed (default 1024)")
    parser.add_argument("--file-megabytes", type=int, default=64, help="per file (COLLECTOR_ROTATE_BYTES' default)")
    parser.add_argument("--every", type=int, default=1000, help="one event in this many is the person's")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="erasure-bench-") as work:
        original = Path(work) / "store"
        events, theirs = build(original, args.megabytes, args.file_megabytes, args.every)
        gz_bytes = sum(path.stat().st_size for path in original.iterdir())
        print(f"store: {events} events, {theirs} of them the person's, {args.megabytes} MiB of lines, "
              f"{gz_bytes / 2**20:.0f} MiB gzipped, in {len(list(original.iterdir()))} files")
        forget = [sys.executable, "-m", "collector", "events", "forget", "--user-id", PERSON, "--data-dir"]
        copy = Path(work) / "copy"
        for label, command, shell in (
            ("forget --dry-run", [*forget, str(original), "--dry-run"], False),
            ("forget", [*forget, str(copy)], False),
            ("zcat | grep -v | gzip -6", f"for f in {copy}/events-*.gz; do zcat $f | grep -vF '{PERSON}' "
             f"| gzip -6 > $f.new; done", True),
        ):
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(original, copy)
            seconds = timed(command, shell)
            print(f"{label:26s} {seconds:7.1f} s  {args.megabytes / seconds:6.1f} MiB/s of lines  "
                  f"{gz_bytes / 2**20 / seconds:6.1f} MiB/s of .gz")


if __name__ == "__main__":
    main()
