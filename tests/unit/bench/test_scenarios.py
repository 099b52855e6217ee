"""bench/scenarios.py: what each scenario measures beside what."""

from __future__ import annotations

import importlib

import pytest

from tests.processes import ROOT


@pytest.fixture
def scenarios(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    return importlib.import_module("scenarios")


def test_each_feature_row_runs_with_bots_off_so_that_it_measures_its_feature_alone(scenarios):
    assert all(settings.get("COLLECTOR_BOTS") == "off" for settings, _ in scenarios.FEATURES.values())


def test_the_bots_rows_differ_from_bots_off_only_by_the_setting_for_the_same_agent(scenarios):
    off_settings, off_wrk = scenarios.BOTS[scenarios.BOTS_OFF_LABEL]
    assert off_settings == {"COLLECTOR_BOTS": "off"}
    flagged = [pair for label, pair in scenarios.BOTS.items() if label != scenarios.BOTS_OFF_LABEL]
    assert ({}, off_wrk) in flagged, "flag is the default: no setting, the same browser agent"
    assert any("Googlebot" in wrk["BENCH_HEADERS"] for _, wrk in flagged), "a crawler's events are stored flagged"
    assert all(wrk["BENCH_HEADERS"].startswith("User-Agent: ") for _, wrk in scenarios.BOTS.values())
