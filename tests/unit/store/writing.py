"""What the writer's tests share: a settable clock, numbered lines, what was stored, metric samples."""

from __future__ import annotations

import orjson
from prometheus_client import REGISTRY

from collector.store import datafiles


class Clock:
    def __init__(self, now=1_795_669_000.0):
        self.now = now

    def __call__(self):
        return self.now


def line(n: int) -> bytes:
    return orjson.dumps({"eventType": "t", "n": n}) + b"\n"


def stored(data_dir) -> list[int]:
    return [orjson.loads(raw)["n"] for path in datafiles.data_files(data_dir) for raw in datafiles.iter_lines(path)]


# prometheus_client's registry is per process: compare before and after.
def sample(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0.0


def finished(reason):
    return sample("collector_files_finished_total", reason=reason)
