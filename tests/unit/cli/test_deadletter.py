"""collector/cli/deadletter.py: `collector deadletter replay`, one at a time."""

from __future__ import annotations

import subprocess
import sys

import orjson

from collector.store import datafiles
from tests.unit.cli.helpers import run


def keep_a_letter(data):
    """A request rejected for its event type, kept as a dead letter."""
    (data / "deadletters").mkdir(parents=True)
    (data / "deadletters" / "deadletters-20261203T000000.000000Z-h-1.jsonl").write_bytes(
        orjson.dumps({"id": "l-1", "receivedAt": "2026-12-03T00:00:00.000Z", "status": 400,
                      "code": "invalid_event_type", "body": '{"messageBody": [{"eventType": "a"}]}'}) + b"\n"
    )


def test_a_letter_the_settings_still_reject_is_counted_as_still_rejected(capsys, environ, tmp_path):
    keep_a_letter(tmp_path / "data")
    environ.setenv("COLLECTOR_DATA_DIR", str(tmp_path / "data"))
    environ.setenv("COLLECTOR_EVENT_TYPES", "b")
    code, out, _ = run(capsys, "deadletter", "replay")
    assert code == 0
    assert "still rejected: 1 invalid_event_type," in out.splitlines()[-1]
    assert datafiles.data_files(tmp_path / "data") == [], "nothing stored"


def test_a_second_deadletter_replay_is_stopped_naming_the_lock(capsys, environ, tmp_path):
    data = tmp_path / "data"
    keep_a_letter(data)
    environ.setenv("COLLECTOR_DATA_DIR", str(data))
    lock = data / "deadletters" / "replay.lock"
    held = subprocess.Popen(  # another replay, in another process, holding the lock
        [sys.executable, "-c", "import fcntl, sys; f = open(sys.argv[1], 'w'); fcntl.flock(f, fcntl.LOCK_EX); "
         "print('held', flush=True); sys.stdin.read()", str(lock)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert held.stdout.readline() == "held\n"
        code, out, err = run(capsys, "deadletter", "replay")
    finally:
        held.communicate("", timeout=30)
    assert (code, out) == (75, "")
    assert str(lock) in err and "another `collector deadletter replay` is running" in err
    assert datafiles.data_files(data) == [], "nothing stored"
    assert run(capsys, "deadletter", "replay")[0] == 0, "runs once the other has finished"
    assert len(datafiles.data_files(data)) == 1
