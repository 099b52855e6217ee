"""Fixtures of the `collector` command's tests: a data directory of real files, and a clean environment."""

from __future__ import annotations

import gzip
import os

import pytest

from tests.unit.cli.helpers import line


@pytest.fixture
def data_dir(tmp_path):
    """Two workers' files overlapping in time, one compressed, one still open."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "events-20261126T050000.000000Z-h-1-000001.jsonl.gz").write_bytes(
        gzip.compress(line("a", "2026-11-26T05:00:00.000Z") + line("b", "2026-11-26T05:00:02.000Z"))
    )
    (data / "events-20261126T050001.000000Z-h-2-000001.jsonl").write_bytes(
        line("a", "2026-11-26T05:00:01.000Z") + line("a", "2026-11-26T06:10:00.000Z", text="x\u2028y")
    )
    (data / "events-20261126T061500.000000Z-h-1-000002.jsonl.open").write_bytes(line("b", "2026-11-26T06:15:00.000Z"))
    return data


@pytest.fixture
def environ(monkeypatch, tmp_path):
    """The settings command's environment: no COLLECTOR_* but what a test sets."""
    for name in [name for name in os.environ if name.startswith("COLLECTOR_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return monkeypatch
