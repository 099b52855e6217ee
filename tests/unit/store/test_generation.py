from __future__ import annotations

from collector.store import generation


def test_the_generation_starts_at_zero_and_each_bump_counts_one_durably(tmp_path):
    assert generation.read(tmp_path) == 0
    assert generation.bump(tmp_path) == 1
    assert generation.bump(tmp_path) == 2
    assert generation.read(tmp_path) == 2
    assert [p.name for p in tmp_path.iterdir()] == [generation.FILE_NAME]


def test_an_unreadable_count_is_generation_zero(tmp_path):
    (tmp_path / generation.FILE_NAME).write_text("garbage")
    assert generation.read(tmp_path) == 0
