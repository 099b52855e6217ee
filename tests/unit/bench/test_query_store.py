"""bench/query_store.py: a store the collector reads whole, as the measurements in the manual need."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections import Counter

from collector.store import datafiles, reading
from tests.processes import ROOT

SCRIPT = ROOT / "bench" / "query_store.py"


def _module():
    spec = importlib.util.spec_from_file_location("query_store", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_line_is_an_event_the_store_reads_and_the_files_are_a_day_each(tmp_path):
    _module().build(tmp_path, events=1000, files=4, users=50)
    files = datafiles.data_files(tmp_path)
    assert len(files) == 4 and all(path.name.endswith(".jsonl.gz") and datafiles.is_finished(path) for path in files)
    problems: list[reading.Problem] = []
    events = [event for path in files for _, event in reading.events_of_file(path, problems.append)]
    assert problems == [] and len(events) == 1000
    assert len({event["eventType"] for event in events}) == 4
    assert len({event.get("userId") or event["anonymousId"] for event in events}) <= 50
    days = Counter(event["receivedAt"][:10] for event in events)
    assert sorted(days) == ["2026-11-24", "2026-11-25", "2026-11-26", "2026-11-27"]


def test_the_same_arguments_give_the_same_bytes(tmp_path):
    for name in ("a", "b"):
        subprocess.run(
            [sys.executable, str(SCRIPT), str(tmp_path / name), "--events", "100", "--files", "2"], check=True
        )
    assert [path.read_bytes() for path in sorted((tmp_path / "a").iterdir())] == [
        path.read_bytes() for path in sorted((tmp_path / "b").iterdir())
    ]
