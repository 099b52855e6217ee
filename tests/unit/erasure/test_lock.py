from __future__ import annotations

import pytest

from collector.deadletters import letters
from collector.erasure import lock
from tests.unit.erasure.helpers import event, name, write


def test_only_one_erasure_holds_the_lock_and_the_second_is_told_which_lock(tmp_path):
    with lock.held(tmp_path):
        with pytest.raises(lock.Refused, match=str(tmp_path / lock.LOCK_FILE)) as refused, lock.held(tmp_path):
            pass
        assert refused.value.busy
    with lock.held(tmp_path):  # released with the first
        pass


def test_a_directory_with_the_collectors_files_passes_and_any_other_is_refused(tmp_path):
    with pytest.raises(lock.Refused, match="not a collector data directory") as refused:
        lock.check_data_dir(tmp_path)
    assert not refused.value.busy
    write(tmp_path / name(1), [event(1)])
    lock.check_data_dir(tmp_path)
    with pytest.raises(lock.Refused, match="cannot read"):
        lock.check_data_dir(tmp_path / "missing")


def test_an_erasure_is_refused_while_a_dead_letter_replay_runs(tmp_path):
    (tmp_path / letters.DIRECTORY).mkdir()
    with letters.replay_lock(tmp_path), pytest.raises(lock.Refused, match="replay") as refused, lock.no_replay(
        tmp_path
    ):
        pass
    assert refused.value.busy
