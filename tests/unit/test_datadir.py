"""The data directory is pinned at start-up and never re-created afterwards."""

from __future__ import annotations

import pytest

from collector import datadir


def test_pin_creates_the_directory_once(tmp_path):
    data_dir = tmp_path / "a" / "data"
    datadir.pin(data_dir)
    assert data_dir.is_dir()
    datadir.check(data_dir)


def test_a_renamed_directory_is_refused_and_not_recreated_until_renamed_back(tmp_path):
    data_dir, moved = tmp_path / "data", tmp_path / "moved"
    datadir.pin(data_dir)
    data_dir.rename(moved)
    with pytest.raises(datadir.DataDirGone, match="not re-created"):
        datadir.check(data_dir)
    datadir.pin(data_dir)  # a second start-up step (SIGHUP) does not re-create it either
    assert not data_dir.exists() and not datadir.is_there(data_dir)
    moved.rename(data_dir)
    datadir.check(data_dir)


def test_another_directory_in_its_place_is_refused(tmp_path):
    data_dir, moved = tmp_path / "data", tmp_path / "moved"
    datadir.pin(data_dir)
    data_dir.rename(moved)
    data_dir.mkdir()  # e.g. an empty mount point left by a lost mount
    with pytest.raises(datadir.DataDirGone):
        datadir.check(data_dir)


def test_each_once_reads_a_directory_named_twice_once_where_first_named(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "a")
    named = [tmp_path / "a", tmp_path / "b", tmp_path / "link", tmp_path / "b" / ".." / "a"]
    assert datadir.each_once(named) == [tmp_path / "a", tmp_path / "b"]
