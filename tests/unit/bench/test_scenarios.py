"""bench/scenarios.py: what each scenario measures beside what."""

from __future__ import annotations

import importlib
import json

import pytest

from tests.processes import ROOT


@pytest.fixture
def scenarios(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    return importlib.import_module("scenarios")


def test_each_feature_row_runs_with_bots_off_so_that_it_measures_its_feature_alone(scenarios):
    assert all(settings.get("COLLECTOR_BOTS") == "off" for settings, _ in scenarios.FEATURES.values())


def test_the_bots_rows_differ_from_bots_off_only_by_the_setting_for_the_same_agent(scenarios):
    off_settings, off_wrk = scenarios.DATA_QUALITY[scenarios.BOTS_OFF_LABEL]
    assert off_settings == {"COLLECTOR_BOTS": "off"}
    flagged = [pair for label, pair in scenarios.DATA_QUALITY.items() if label != scenarios.BOTS_OFF_LABEL]
    assert ({}, off_wrk) in flagged, "flag is the default: no setting, the same browser agent"
    assert any("Googlebot" in wrk["BENCH_HEADERS"] for _, wrk in flagged), "a crawler's events are stored flagged"
    assert all(wrk["BENCH_HEADERS"].startswith("User-Agent: ") for _, wrk in scenarios.DATA_QUALITY.values())


def test_the_plan_rows_load_a_ten_type_plan_that_every_bench_event_meets(scenarios):
    # The plan's cost is measured on events it accepts: a violation would be a refusal (400) in refuse mode,
    # and the row would measure error answers instead.
    from collector.plan import load_plan

    plan = load_plan(scenarios.TEN_TYPE_PLAN)
    assert len(plan.event_types) == 10
    lua = (ROOT / "bench" / "wrk" / "events.lua").read_text()
    head = lua.split("local event_head = '")[1].split("'")[0]
    tail_source = lua.split("local event_tail = '")[1].split("local body_head")[0]
    tail = "".join(part.split("'")[0] for part in tail_source.split(".. '"))
    event = json.loads(head + "0000-id" + tail)
    assert event["eventType"] == "page_view" and plan.check(event) == []
    plan_rows = {label: settings for label, (settings, _) in scenarios.DATA_QUALITY.items() if "tracking plan" in label}
    assert len(plan_rows) == 3
    assert all(settings["COLLECTOR_TRACKING_PLAN"] == scenarios.TEN_TYPE_PLAN for settings in plan_rows.values())
