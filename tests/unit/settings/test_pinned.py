"""collector/settings/pinned.py: what gunicorn's master read from a setting's file, found by the variable and the
file, forgotten for a reload and given back should the reload be refused."""

from __future__ import annotations

import json

import pytest

from collector.plan import PlanError, plan_from_text
from collector.settings import SettingsError, pinned
from collector.suppressed import SuppressedIds

PLAN = "COLLECTOR_TRACKING_PLAN"
SUPPRESSED = "COLLECTOR_SUPPRESSED_IDS_FILE"
PLAN_TEXT = json.dumps({"eventTypes": {"a": {"properties": True}}, "otherEventTypes": "allow"})


@pytest.fixture(autouse=True)
def nothing_pinned():
    pinned.unpin()
    yield
    pinned.unpin()


def test_a_pinned_plan_is_found_by_its_variable_and_file_only():
    plan = plan_from_text(PLAN_TEXT, "/etc/collector/plan.json")
    assert pinned.pinned(PLAN, "/etc/collector/plan.json") is None
    pinned.pin(PLAN, plan)
    assert pinned.pinned(PLAN, "/etc/collector/plan.json") is plan
    assert pinned.pinned(PLAN, "/etc/collector/other.json") is None
    assert pinned.pinned(SUPPRESSED, "/etc/collector/plan.json") is None


def test_a_pinned_list_is_found_by_its_file_only_and_unpinned_for_a_reload():
    listed = SuppressedIds("/etc/collector/suppressed.txt", frozenset({"u1"}))
    assert pinned.pinned(SUPPRESSED, listed.source) is None
    pinned.pin(SUPPRESSED, listed)
    assert pinned.pinned(SUPPRESSED, "/etc/collector/suppressed.txt") is listed
    assert pinned.pinned(SUPPRESSED, "/etc/collector/other.txt") is None
    assert pinned.unpin() == {SUPPRESSED: listed}
    assert pinned.pinned(SUPPRESSED, listed.source) is None


def test_unpin_forgets_every_file_and_restore_pins_them_again():
    plan = plan_from_text(PLAN_TEXT, "plan.json")
    listed = SuppressedIds("ids.txt", frozenset({"u1"}))
    pinned.pin(PLAN, plan)
    pinned.pin(SUPPRESSED, listed)
    held = pinned.unpin()
    assert pinned.pinned(PLAN, "plan.json") is None and pinned.pinned(SUPPRESSED, "ids.txt") is None
    pinned.restore(held)
    assert pinned.pinned(PLAN, "plan.json") is plan and pinned.pinned(SUPPRESSED, "ids.txt") is listed
    pinned.pin(PLAN, None)
    assert pinned.unpin() == {SUPPRESSED: listed}


def test_read_file_takes_the_pinned_value_else_reads_and_words_a_failure_behind_the_variable(tmp_path):
    assert pinned.read_file(PLAN, "  ", lambda path: pytest.fail("nothing to read"), PlanError) is None
    plan = plan_from_text(PLAN_TEXT, str(tmp_path / "plan.json"))
    pinned.pin(PLAN, plan)
    read_again = pinned.read_file(PLAN, str(tmp_path / "plan.json"), lambda path: pytest.fail("read again"), PlanError)
    assert read_again is plan

    def broken(path: str) -> None:
        raise PlanError(path, "not JSON", line=1, column=1)

    with pytest.raises(SettingsError, match=r"^COLLECTOR_TRACKING_PLAN: tracking plan .*other.json:1:1: not JSON$"):
        pinned.read_file(PLAN, str(tmp_path / "other.json"), broken, PlanError)
