"""The writer on real files in tmp_path, closed at the end of each test."""

from __future__ import annotations

import pytest

from collector.store.writer import EventWriter


@pytest.fixture
def make_writer(tmp_path):
    writers = []

    def make(**options):
        options.setdefault("rotate_bytes", 1 << 20)
        options.setdefault("rotate_seconds", 3600)
        writer = EventWriter(tmp_path / "data", host_name="testhost", fsync="never", **options)
        writers.append(writer)
        return writer

    yield make
    for writer in writers:
        writer.close()
