"""collector/plan/pinning.py: the plan gunicorn's master compiled, found by its file, forgotten for a reload."""

from __future__ import annotations

import json

import pytest

from collector.plan import pinning, plan_from_text

PLAN_TEXT = json.dumps({"eventTypes": {"a": {"properties": True}}, "otherEventTypes": "allow"})


@pytest.fixture(autouse=True)
def nothing_pinned():
    pinning.unpin()
    yield
    pinning.unpin()


def test_a_pinned_plan_is_found_by_its_file_only():
    plan = plan_from_text(PLAN_TEXT, "/etc/collector/plan.json")
    assert pinning.pinned("/etc/collector/plan.json") is None
    pinning.pin(plan)
    assert pinning.pinned("/etc/collector/plan.json") is plan
    assert pinning.pinned("/etc/collector/other.json") is None


def test_unpin_forgets_it_and_gives_it_back_to_be_pinned_again():
    plan = plan_from_text(PLAN_TEXT, "plan.json")
    pinning.pin(plan)
    assert pinning.unpin() is plan
    assert pinning.pinned("plan.json") is None
    pinning.pin(None)
    assert pinning.unpin() is None
