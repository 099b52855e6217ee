"""What asking the writers to finish their files costs: `python3 bench/finishing.py` (see `--help`).

1. The check a writer's background thread makes once per period (every
   min(COLLECTOR_FSYNC_SECONDS, 1 s)) when nothing was asked: the one
   recurring cost (`EventWriter.finish_if_asked`), per call.
2. Appends of one 300-byte event from one thread, with the background
   thread checking every 10 ms (100 times its default rate) and every second:
   the append path itself has no added step, so the two must agree.
3. A finish when asked: the time the writer's lock is held for it (the fsync
   of a file of 1000 events, its rename and the directory's fsync).
4. The longest append while the writer is asked to finish its file
   `--asks` times (each finish is a rotation: fsync, rename, directory fsync
   under the writer's lock), against the longest append with no ask: how long
   a request may wait for an ask.

Prints the figures; nothing fails on a timing. COLLECTOR_FSYNC is `interval`
(the default) throughout; the data directory is a temporary directory on
the file system of `--dir` (default: the system's temporary directory).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from collector.store import finishing
from collector.store.writer import EventWriter

EVENT = b'{"eventType":"page_view","properties":{"path":"/pricing"},"pad":"' + b"x" * 220 + b'"}\n'


def writer(data_dir: Path, fsync_seconds: float) -> EventWriter:
    made = EventWriter(
        data_dir, rotate_bytes=64 << 20, rotate_seconds=3600, host_name="bench", fsync_seconds=fsync_seconds
    )
    made.start()
    return made


def check_cost(data_dir: Path, calls: int) -> float:
    """Microseconds per `finish_if_asked` with nothing new asked."""
    events = writer(data_dir / "check", 1.0)
    events.append([EVENT])
    finishing.ask_workers_to_finish(data_dir / "check")  # a request file exists, as after a forget
    events.finish_if_asked()
    batches = []
    for _ in range(10):  # the median of batches: one busy moment of a shared machine does not count
        started = time.perf_counter()
        for _ in range(calls // 10):
            events.finish_if_asked()
        batches.append((time.perf_counter() - started) / (calls // 10))
    events.close()
    return statistics.median(batches) * 1e6


def finish_cost(data_dir: Path, finishes: int) -> list[float]:
    """Milliseconds of each `finish_if_asked` that finishes a file of 1000 events: what a request may wait."""
    events = writer(data_dir / "finish", 1.0)
    times = []
    for _ in range(finishes):
        for _ in range(1000):
            events.append([EVENT])
        finishing.ask_workers_to_finish(data_dir / "finish")
        started = time.perf_counter()
        events.finish_if_asked()  # or its background thread did it first: then this one is quick
        times.append((time.perf_counter() - started) * 1e3)
    events.close()
    return sorted(times)


def append_times(events: EventWriter, count: int, until: threading.Event | None = None) -> list[float]:
    """The time of each append: `count` of them, and on until `until` is set if given."""
    times: list[float] = []
    while len(times) < count or (until is not None and not until.is_set()):
        started = time.perf_counter()
        events.append([EVENT])
        times.append(time.perf_counter() - started)
    return times


def appends_with_period(data_dir: Path, fsync_seconds: float, count: int) -> float:
    """Median microseconds per append with the background thread looking every `fsync_seconds`."""
    events = writer(data_dir, fsync_seconds)
    times = append_times(events, count)
    events.close()
    return statistics.median(times) * 1e6


def longest_append(data_dir: Path, count: int, asks: int) -> tuple[float, float]:
    """Milliseconds of the 99.9th percentile and the longest append, appending until `asks` finishes are done."""
    events = writer(data_dir, 0.01)
    done = threading.Event()

    def ask() -> None:
        for _ in range(asks):
            time.sleep(0.05)
            generation = finishing.ask_workers_to_finish(data_dir)
            while events._finish_seen != generation:  # a benchmark may peek: answered before the next ask
                time.sleep(0.001)
        done.set()

    asker = threading.Thread(target=ask)
    asker.start()
    times = sorted(append_times(events, count, until=done))
    asker.join()
    events.close()
    return times[int(len(times) * 0.999)] * 1e3, times[-1] * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--appends", type=int, default=20000, help="appends per measurement")
    parser.add_argument("--asks", type=int, default=20, help="asks to finish during the last measurement")
    parser.add_argument("--dir", default=None, help="where to make the temporary data directories")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=options.dir) as temporary:
        root = Path(temporary)
        print(f"check with nothing asked: {check_cost(root, 10000):.1f} µs per call (once per period per worker)")
        finishes = finish_cost(root, 20)
        print(
            f"a finish (fsync, rename, directory fsync) under the lock: median {statistics.median(finishes):.2f} ms,"
            f" longest {finishes[-1]:.2f} ms"
        )
        for n, period in enumerate((1.0, 0.01, 1.0, 0.01)):
            median = appends_with_period(root / f"period{n}", period, options.appends)
            print(f"append, background period {period:>4} s: median {median:.1f} µs")
        for asks in (0, options.asks, 0, options.asks):
            p999, longest = longest_append(root / f"asks{asks}-{time.monotonic_ns()}", options.appends, asks)
            print(f"appends with {asks:>2} asks answered: 99.9th percentile {p999:.2f} ms, longest {longest:.2f} ms")


if __name__ == "__main__":
    main()
