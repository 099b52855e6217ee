"""collector/settings/planfile.py: COLLECTOR_TRACKING_PLAN and its mode, checked at start-up in one line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from collector.plan import TrackingPlan
from collector.settings import SettingsError, load_settings, pinned

SHOP = Path(__file__).parents[1] / "plan" / "data" / "shop.json"


@pytest.fixture(autouse=True)
def no_pinned_plan():
    pinned.unpin()
    yield
    pinned.unpin()


def test_no_plan_by_default_and_flag_mode(tmp_path):
    settings = load_settings(environ={"COLLECTOR_DATA_DIR": str(tmp_path)})
    assert settings.tracking_plan is None and settings.tracking_plan_mode == "flag"


def test_a_plan_file_is_compiled_once_into_the_settings(tmp_path):
    settings = load_settings(environ={"COLLECTOR_DATA_DIR": str(tmp_path), "COLLECTOR_TRACKING_PLAN": str(SHOP)})
    assert isinstance(settings.tracking_plan, TrackingPlan)
    assert "purchase" in settings.tracking_plan.event_types
    assert settings.describe()["COLLECTOR_TRACKING_PLAN"] == str(SHOP)


def test_a_bad_plan_is_one_line_naming_the_setting_the_file_and_the_pointer(tmp_path):
    bad = tmp_path / "plan.json"
    bad.write_text('{"eventTypes": {"a": {"properties": {"type": "strin"}}}, "otherEventTypes": "allow"}')
    with pytest.raises(SettingsError) as caught:
        load_settings(environ={"COLLECTOR_DATA_DIR": str(tmp_path), "COLLECTOR_TRACKING_PLAN": str(bad)})
    line = str(caught.value)
    assert line.startswith(f"COLLECTOR_TRACKING_PLAN: tracking plan {bad} at /eventTypes/a/properties/type: ")
    assert "\n" not in line


def test_a_missing_plan_file_is_refused(tmp_path):
    with pytest.raises(SettingsError, match=r"^COLLECTOR_TRACKING_PLAN: tracking plan .*cannot be read"):
        load_settings(environ={"COLLECTOR_DATA_DIR": str(tmp_path), "COLLECTOR_TRACKING_PLAN": str(tmp_path / "no")})


def test_the_mode_is_flag_or_refuse(tmp_path):
    environ = {"COLLECTOR_DATA_DIR": str(tmp_path), "COLLECTOR_TRACKING_PLAN_MODE": "REFUSE"}
    assert load_settings(environ=environ).tracking_plan_mode == "refuse"
    with pytest.raises(SettingsError) as caught:
        load_settings(environ={**environ, "COLLECTOR_TRACKING_PLAN_MODE": "block"})
    assert str(caught.value) == "COLLECTOR_TRACKING_PLAN_MODE='block' is not valid: expected one of flag, refuse"


def test_a_plan_and_an_allow_list_together_are_refused(tmp_path):
    environ = {"COLLECTOR_DATA_DIR": str(tmp_path), "COLLECTOR_TRACKING_PLAN": str(SHOP), "COLLECTOR_EVENT_TYPES": "a"}
    with pytest.raises(SettingsError) as caught:
        load_settings(environ=environ)
    assert str(caught.value).startswith("COLLECTOR_TRACKING_PLAN and COLLECTOR_EVENT_TYPES are both set: ")


def test_a_plan_pinned_by_the_master_is_taken_as_it_is_and_the_file_not_read_again(tmp_path):
    copy = tmp_path / "plan.json"
    shutil.copy(SHOP, copy)
    environ = {"COLLECTOR_DATA_DIR": str(tmp_path), "COLLECTOR_TRACKING_PLAN": str(copy)}
    master = load_settings(environ=environ).tracking_plan
    pinned.pin("COLLECTOR_TRACKING_PLAN", master)
    copy.write_text("broken")  # changed after the master read it: a worker still takes the master's plan
    assert load_settings(environ=environ).tracking_plan is master
    pinned.unpin()
    with pytest.raises(SettingsError):
        load_settings(environ=environ)
