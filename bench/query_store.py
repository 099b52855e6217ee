"""A store to measure `collector events query` and `collector load postgres` on: `python3 bench/query_store.py DIR`.

Writes `--events` stored events (default 1 million: 4 types, 5,000 users) in
`--files` finished `.jsonl.gz` files (default 10), one per UTC day ending on
2026-11-27, as one worker of the service names and fills them: each line as
the service stores it (eventId, userId or anonymousId, sessionId, timestamp,
properties, context, the pingId of the request that carried it, 1 to 8 events
a request, receivedAt and client). The same arguments give the same bytes (a
seeded generator, no time in the gzip headers), so runs compare. The figures
it was used for are in docs/from-events-to-answers.md.
"""

from __future__ import annotations

import argparse
import datetime
import gzip
import random
import uuid
from collections.abc import Iterator
from pathlib import Path

import orjson

TYPES = ("page_view", "page_view", "page_view", "click", "signup", "purchase")  # 4 types, mostly views
PAGES = [f"/docs/{n}" for n in range(200)] + ["/", "/pricing", "/signup", "/blog"]
AGENTS = (
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
)
LAST_DAY = datetime.datetime(2026, 11, 27, tzinfo=datetime.UTC)


def _id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _stamp(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def events_of_day(rng: random.Random, day: datetime.datetime, count: int, users: int) -> Iterator[dict]:
    """`count` events received over one day, in order, as the service stores them."""
    ping, left = "", 0
    for number in range(count):
        if not left:  # a request carries a batch of 1 to 8 events, one pingId
            ping, left = _id(rng), rng.randrange(1, 9)
        left -= 1
        received = day + datetime.timedelta(seconds=86_400 * number / count)
        user = rng.randrange(users)
        event_type = rng.choice(TYPES)
        event: dict = {"eventType": event_type, "eventId": _id(rng)}
        if user % 3:  # two in three signed in
            event["userId"] = f"user-{user}"
        event["anonymousId"] = str(uuid.UUID(int=user * 7919 + 1, version=4))
        event["sessionId"] = f"s-{user}-{received.hour // 6}"
        event["timestamp"] = _stamp(received - datetime.timedelta(milliseconds=rng.randrange(2000)))
        page = rng.choice(PAGES)
        event["properties"] = {"path": page, "title": f"Page {page}", "referrer": rng.choice(PAGES)}
        if event_type == "purchase":
            event["properties"].update(plan=rng.choice(("pro", "team")), amount=rng.randrange(10, 500))
        event["context"] = {
            "library": {"name": "collector.js", "version": "1.4.0"},
            "page": {"url": f"https://example.com{page}"},
            "locale": "en-GB",
        }
        event["pingId"] = ping
        event["receivedAt"] = _stamp(received)
        event["client"] = {"ip": f"203.0.113.{user % 250}", "userAgent": AGENTS[user % len(AGENTS)]}
        yield event


def build(data_dir: Path, events: int, files: int, users: int, seed: int = 25) -> None:
    """The store: `events` events in `files` finished .gz files, one per day."""
    rng = random.Random(seed)
    data_dir.mkdir(parents=True, exist_ok=True)
    for number in range(files):
        day = LAST_DAY - datetime.timedelta(days=files - 1 - number)
        count = events // files + (number < events % files)
        lines = b"".join(orjson.dumps(event) + b"\n" for event in events_of_day(rng, day, count, users))
        name = f"events-{day:%Y%m%dT%H%M%S}.000000Z-bench-1-{number + 1:06d}.jsonl.gz"
        (data_dir / name).write_bytes(gzip.compress(lines, compresslevel=6, mtime=0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path, help="where to write the files (made if missing)")
    parser.add_argument("--events", type=int, default=1_000_000, help="events in all (default 1,000,000)")
    parser.add_argument("--files", type=int, default=10, help=".gz files, one per day (default 10)")
    parser.add_argument("--users", type=int, default=5_000, help="distinct people (default 5,000)")
    args = parser.parse_args()
    build(args.data_dir, args.events, args.files, args.users)


if __name__ == "__main__":
    main()
