"""collector/cli/openapi.py: `collector openapi` prints the committed document."""

from __future__ import annotations

from collector.cli import main
from tests.processes import ROOT


def test_collector_openapi_prints_the_committed_document_whatever_the_environment(monkeypatch, capsys):
    monkeypatch.setenv("COLLECTOR_MAX_EVENTS", "3")
    assert main(["openapi"]) == 0
    assert capsys.readouterr().out.encode() == (ROOT / "docs" / "openapi.json").read_bytes()
