"""collector/cli/events.py: `collector events cat|stats|verify` over a FIFO, a symlink loop and gzip bombs.

Each is reported, never waited on, bounded.
"""

from __future__ import annotations

import gzip
import subprocess
import sys

import orjson
import pytest

from collector.store import datafiles
from tests import damaged
from tests.servers import ROOT
from tests.unit.cli.helpers import line

# The command in a child process that reports its own peak memory (KiB) last on
# stderr: VmHWM is this program's, where ru_maxrss would count the parent it forked from.
MEASURED = (
    "import re, sys; from collector import cli; code = cli.main(sys.argv[1:]); sys.stdout.flush(); "
    "status = open('/proc/self/status').read(); "
    "print(re.search(r'VmHWM:\\s*(\\d+) kB', status).group(1), file=sys.stderr); sys.exit(code)"
)


@pytest.mark.parametrize("kind", damaged.KINDS)
@pytest.mark.parametrize("command", ["cat", "stats", "verify"])
def test_a_file_that_is_not_a_data_file_is_reported_the_rest_read_and_the_exit_status_1(tmp_path, command, kind):
    data = tmp_path / "data"
    data.mkdir()
    (data / "events-20261126T050000.000000Z-h-1-000001.jsonl.gz").write_bytes(
        gzip.compress(line("a", "2026-11-26T05:00:00.000Z") + line("b", "2026-11-26T05:00:02.000Z"))
    )
    name = damaged.make(data, kind)
    # A generous deadline: a FIFO used to block the command for ever.
    result = subprocess.run(
        [sys.executable, "-c", MEASURED, "events", command, "--data-dir", str(data)],
        cwd=ROOT, capture_output=True, timeout=120,
    )
    *said, peak_kib = result.stderr.decode().splitlines()
    report = result.stdout.decode() if command == "verify" else "\n".join(said)
    assert result.returncode == 1, result.stderr
    complaints = [text for text in report.splitlines() if name in text]
    assert any(damaged.REASONS[kind] in text for text in complaints), report[-2000:]
    # Never a line per bad line of a bomb, never a gigabyte in memory.
    assert len(complaints) <= datafiles.MAX_BAD_LINES + 2  # and verify's table row
    assert int(peak_kib) < 200 * 1024
    if command == "cat":
        assert [orjson.loads(raw)["eventType"] for raw in result.stdout.splitlines()] == ["a", "b"]
    if command == "stats":
        assert "2 events" in result.stdout.decode()
