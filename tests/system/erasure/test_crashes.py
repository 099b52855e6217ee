"""`collector events forget` killed with SIGKILL at random points, over many runs: a second run finishes the job.

The deterministic kills at each step of a rewrite are in tests/unit/erasure/test_run.py;
these kill the real command wherever it happens to be (listing, reading, compressing,
renaming, dead letters, the audit log).
"""

from __future__ import annotations

import random
import shutil
import signal
import subprocess
import sys
import time

import pytest

from collector.store import datafiles
from tests.processes import ROOT
from tests.unit.erasure.helpers import GONE, event, lines_of, name, write

pytestmark = pytest.mark.system

FILES = 12
PER_FILE = 3000


def build(data_dir):
    data_dir.mkdir()
    others = []
    for number in range(FILES):
        lines = [event(number * PER_FILE + n, GONE if n % 7 == 0 else f"u-{n}") for n in range(PER_FILE)]
        others += [line for line in lines if GONE.encode() not in line]
        write(data_dir / name(number, ".jsonl.gz" if number % 3 else ".jsonl"), lines)
    return sorted(others)


def forget(data_dir) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "collector", "events", "forget", "--user-id", GONE, "--data-dir", str(data_dir)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def every_line(data_dir):
    return sorted(line for path in datafiles.data_files(data_dir) for line in lines_of(path))


def test_killed_at_random_points_nothing_else_is_lost_or_doubled_and_a_second_run_finishes(tmp_path):
    pristine = tmp_path / "pristine"
    others = build(pristine)
    # How long one run takes here, only to spread the kills over it (nothing is asserted of it).
    whole = tmp_path / "whole"
    shutil.copytree(pristine, whole)
    started = time.monotonic()
    assert forget(whole).wait(timeout=300) == 0
    duration = time.monotonic() - started
    timing = random.Random(24)
    for run in range(8):
        data_dir = tmp_path / f"run{run}"
        shutil.copytree(pristine, data_dir)
        running = forget(data_dir)
        try:
            running.wait(timeout=timing.uniform(0.1, 1.0) * duration)
        except subprocess.TimeoutExpired:
            running.send_signal(signal.SIGKILL)
            running.wait()
        # Wherever it was killed: every other person's event is there exactly once.
        assert [line for line in every_line(data_dir) if GONE.encode() not in line] == others
        assert forget(data_dir).wait(timeout=300) == 0
        assert every_line(data_dir) == others
        assert not [path for path in data_dir.iterdir() if path.name.startswith(".events-")]
        shutil.rmtree(data_dir)
