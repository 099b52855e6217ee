"""collector/cli/plan.py: `collector plan infer|check` on a store of mixed events in a tmp data directory."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.unit.cli.helpers import line, run

CURRENCIES = ["EUR", "USD", "EUR", "GBP"]


def purchase(n):
    properties = {
        "orderId": str(uuid.UUID(int=n + 1)),
        "total": 10 + n if n % 2 else 9.5 + n,  # integers and fractions: a number
        "currency": CURRENCIES[n % 4],
        "paidAt": f"2026-11-26T05:{n % 60:02d}:00.000Z",
        "email": f"buyer{n}@example.com",
    }
    if n % 5:
        properties["coupon"] = None if n % 2 else f"SAVE{n}"  # in 80% of purchases: not required at 0.95
    return properties


def page_view(n):
    return {"path": f"/p/{n}", "referrer": f"https://search.example/?q={n}", "visits": n}


def mixed_store(tmp_path):
    """40 purchases, 40 page views, 30 signups (10 of them without properties), over two hours."""
    data = tmp_path / "data"
    data.mkdir()
    lines = []
    for n in range(40):
        minute = f"2026-11-26T05:{n:02d}:00.000Z"
        lines.append(line("purchase", minute, properties=purchase(n), eventId=f"p{n}", pingId=f"req{n // 2}"))
        lines.append(line("page_view", minute, properties=page_view(n), eventId=f"v{n}", pingId=f"view{n}"))
    for n in range(30):
        signup = {"properties": {"plan": ["free", "pro"][n % 2]}} if n >= 10 else {}
        lines.append(line("signup", f"2026-11-26T06:{n:02d}:00.000Z", eventId=f"s{n}", pingId=f"signup{n}", **signup))
    (data / "events-20261126T050000.000000Z-h-1-000001.jsonl").write_bytes(b"".join(lines))
    return data


@pytest.fixture
def store(tmp_path):
    return mixed_store(tmp_path)


def infer(capsys, store, *options):
    code, out, err = run(capsys, "plan", "infer", "--data-dir", str(store), *options)
    assert (code, err) == (0, "")
    return json.loads(out)


def test_infer_drafts_types_json_types_formats_required_and_enums(capsys, store):
    plan = infer(capsys, store)
    assert list(plan) == ["eventTypes", "otherEventTypes"]
    assert list(plan["eventTypes"]) == ["page_view", "purchase", "signup"]
    purchases = plan["eventTypes"]["purchase"]["properties"]
    assert purchases["properties"] == {
        "coupon": {"type": ["null", "string"]},
        "currency": {"type": "string", "enum": ["EUR", "GBP", "USD"]},
        "email": {"type": "string", "format": "email"},
        "orderId": {"type": "string", "format": "uuid"},
        "paidAt": {"type": "string", "format": "date-time"},
        "total": {"type": "number"},
    }
    assert purchases["required"] == ["currency", "email", "orderId", "paidAt", "total"]
    assert purchases["additionalProperties"] is False
    views = plan["eventTypes"]["page_view"]["properties"]["properties"]
    assert views["referrer"] == {"type": "string", "format": "uri"}
    assert views["visits"] == {"type": "integer"}
    assert "enum" not in views["path"], "40 distinct values are not a category"
    assert "required" not in plan["eventTypes"]["signup"]["properties"], "only 20 of 30 signups have properties"
    assert plan["otherEventTypes"] == "refuse"


def test_infer_min_share_decides_required(capsys, store):
    plan = infer(capsys, store, "--min-share", "0.8")
    assert "coupon" in plan["eventTypes"]["purchase"]["properties"]["required"]
    signups = infer(capsys, store, "--min-share", "0.6")["eventTypes"]["signup"]["properties"]
    assert signups["required"] == ["plan"]  # 20 of 30 signups have it


def test_infer_since_reads_only_later_events(capsys, store):
    plan = infer(capsys, store, "--since", "2026-11-26T06:00:00Z")
    assert list(plan["eventTypes"]) == ["signup"]


@pytest.mark.parametrize("share", ["0", "1.5", "x"])
def test_infer_refuses_a_share_outside_0_to_1(capsys, store, share):
    with pytest.raises(SystemExit) as exited:
        run(capsys, "plan", "infer", "--data-dir", str(store), "--min-share", share)
    assert exited.value.code == 2
    assert "a share greater than 0 and at most 1" in capsys.readouterr().err


def test_infer_on_an_empty_store_says_so_and_prints_no_plan(capsys, tmp_path):
    (tmp_path / "data").mkdir()
    code, out, err = run(capsys, "plan", "infer", "--data-dir", str(tmp_path / "data"))
    assert (code, out) == (1, "")
    assert err == "collector: no stored events to draft a plan from\n"


def test_an_inferred_plan_passes_check_on_the_same_store(capsys, store, tmp_path):
    code, out, _ = run(capsys, "plan", "infer", "--data-dir", str(store))
    (tmp_path / "plan.json").write_text(out)
    code, out, err = run(capsys, "plan", "check", "--plan", str(tmp_path / "plan.json"), "--data-dir", str(store))
    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == "0 of 110 events break the plan"


def test_a_stricter_plan_reports_counts_per_type_and_path_with_an_example(capsys, store, tmp_path):
    code, out, _ = run(capsys, "plan", "infer", "--data-dir", str(store))
    plan = json.loads(out)
    purchases = plan["eventTypes"]["purchase"]["properties"]
    purchases["properties"]["currency"]["enum"] = ["EUR"]  # 20 of 40 are USD or GBP
    purchases["required"].append("coupon")  # missing in 8 of 40
    plan["eventTypes"]["signup"]["properties"]["required"] = ["plan"]  # missing in 10 of 30
    del plan["eventTypes"]["page_view"]  # 40 events of a type the plan no longer names
    (tmp_path / "strict.json").write_text(json.dumps(plan))
    code, out, err = run(capsys, "plan", "check", "--plan", str(tmp_path / "strict.json"), "--data-dir", str(store))
    assert (code, err) == (1, "")
    rows = [row.split(None, 3) for row in out.splitlines()[1:5]]
    assert rows == [
        ["page_view", "/eventType", "40", "not an event type of the tracking plan (eventId v0)"],
        ["purchase", "/properties/coupon", "8", "required property missing (eventId p0)"],
        ["purchase", "/properties/currency", "20", "not one of 'EUR' (eventId p1)"],
        ["signup", "/properties/plan", "10", "required property missing (eventId s0)"],
    ]
    assert out.splitlines()[0].split() == ["type", "path", "events", "example"]
    assert out.splitlines()[-1] == (
        "74 of 110 events break the plan: flag mode stores them flagged; "
        "refuse mode would refuse 70 requests (each with all its events)"
    )


def test_check_since_reads_only_later_events(capsys, store, tmp_path):
    (tmp_path / "plan.json").write_text(
        json.dumps({"eventTypes": {"signup": {"properties": True}}, "otherEventTypes": "refuse"})
    )
    code, out, _ = run(
        capsys, "plan", "check", "--plan", str(tmp_path / "plan.json"),
        "--since", "2026-11-26T06:00Z", "--data-dir", str(store),
    )
    assert code == 0
    assert out.splitlines()[-1] == "0 of 30 events break the plan"


def test_check_with_a_bad_plan_is_one_line_and_status_2(capsys, store, tmp_path):
    (tmp_path / "plan.json").write_text(
        '{"eventTypes": {"a": {"properties": {"type": "numbr"}}}, "otherEventTypes": "allow"}'
    )
    code, out, err = run(capsys, "plan", "check", "--plan", str(tmp_path / "plan.json"), "--data-dir", str(store))
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert err.startswith(
        f"collector: tracking plan {tmp_path / 'plan.json'} at /eventTypes/a/properties/type: not a valid JSON Schema"
    )


def test_check_json_prints_one_object_for_scripts(capsys, store, tmp_path):
    plan = {"eventTypes": {"purchase": {"properties": {"required": ["coupon"]}}}, "otherEventTypes": "allow"}
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    code, out, _ = run(
        capsys, "plan", "check", "--json", "--plan", str(tmp_path / "plan.json"), "--data-dir", str(store)
    )
    assert code == 1
    assert json.loads(out) == {
        "events": 110,
        "breaking": 8,
        "requests": 8,
        "findings": [
            {
                "eventType": "purchase",
                "path": "/properties/coupon",
                "events": 8,
                "example": {"message": "required property missing", "eventId": "p0"},
            }
        ],
    }
