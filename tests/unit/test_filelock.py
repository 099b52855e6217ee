"""collector/filelock.py: an exclusive flock on a lock file for the block; waited for, or refused with `busy`."""

from __future__ import annotations

import os
import threading

import pytest

from collector.filelock import flocked


class Busy(Exception):
    pass


def test_the_lock_file_is_made_and_a_second_holder_with_busy_is_refused_until_the_first_lets_go(tmp_path):
    path = tmp_path / "x.lock"
    with flocked(path):
        assert path.exists() and (path.stat().st_mode & 0o777) == 0o640 & ~_umask()
        with pytest.raises(Busy), flocked(path, busy=Busy):
            pytest.fail("taken while held")
    with flocked(path, busy=Busy):
        pass  # free again


def test_without_busy_a_second_holder_waits_for_the_first(tmp_path):
    path = tmp_path / "x.lock"
    order: list[str] = []
    first_holds = threading.Event()

    def second() -> None:
        first_holds.wait(10)
        with flocked(path):
            order.append("second")

    thread = threading.Thread(target=second)
    thread.start()
    with flocked(path):
        first_holds.set()  # the second now blocks until the first lets go (a flock is per open file)
        order.append("first")
    thread.join(10)
    assert order == ["first", "second"]


def test_read_only_is_enough_for_a_lock_made_by_another(tmp_path):
    path = tmp_path / "x.lock"
    path.touch(mode=0o444)
    with flocked(path, flags=os.O_RDONLY, mode=0o644):
        pass


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
