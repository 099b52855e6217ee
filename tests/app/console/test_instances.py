"""The console's API over several data directories (one per VM): every event, dead letter and store panel with
its instance; over one, the answers of a console over one."""

from __future__ import annotations

from itertools import pairwise

import orjson
import pytest

from collector.console.app import create_app
from collector.settings import load_settings


def post(client, *events: dict) -> None:
    answer = client.post("/collect/event", json={"messageBody": list(events)})
    assert answer.status_code == 201, answer.get_data()


@pytest.fixture
def vms(make_app, tmp_path):
    """Two collectors, as on two VMs: each with its own data directory, vm-a and vm-b."""
    return [
        make_app(data_dir=str(tmp_path / vm), dead_letter="on", event_types="view,buy").test_client()
        for vm in ("vm-a", "vm-b")
    ]


def console_over(tmp_path, *names: str):
    settings = load_settings(environ={"COLLECTOR_DATA_DIR": str(tmp_path / names[0])})
    return create_app(settings, key=None, data_dirs=[tmp_path / name for name in names]).test_client()


def stored(data_dir) -> list[dict]:
    return [orjson.loads(raw) for path in sorted(data_dir.glob("events-*")) for raw in path.read_bytes().splitlines()]


def test_events_of_every_directory_newest_first_each_with_its_instance(vms, tmp_path):
    vm_a, vm_b = vms
    post(vm_a, {"eventType": "view", "eventId": "a-1"})
    post(vm_b, {"eventType": "view", "eventId": "b-1"})
    post(vm_a, {"eventType": "buy", "eventId": "a-2"})
    console = console_over(tmp_path, "vm-a", "vm-b")
    events = console.get("/api/events").get_json()["events"]
    assert sorted((e["eventId"], e["instance"]) for e in events) == [("a-1", "vm-a"), ("a-2", "vm-a"), ("b-1", "vm-b")]
    assert all(a["receivedAt"] >= b["receivedAt"] for a, b in pairwise(events))
    # The stored line as stored, the instance beside its fields.
    on_disk = {e["eventId"]: e for vm in ("vm-a", "vm-b") for e in stored(tmp_path / vm)}
    added = ("instance", "clientName")
    assert all({k: v for k, v in e.items() if k not in added} == on_disk[e["eventId"]] for e in events)
    # The criteria apply to every directory.
    assert [(e["eventId"], e["instance"]) for e in console.get("/api/events?type=buy").get_json()["events"]] == [
        ("a-2", "vm-a")
    ]
    assert len(console.get("/api/events?limit=2").get_json()["events"]) == 2
    series = console.get("/api/series").get_json()["series"]
    assert {t: sum(c for _, c in points) for t, points in series.items()} == {"buy": 1, "view": 2}


def test_overview_names_the_instances_their_stores_and_dead_letters(vms, tmp_path):
    vm_a, vm_b = vms
    post(vm_a, {"eventType": "view"})
    post(vm_b, {"eventType": "view"}, {"eventType": "buy"})
    assert vm_a.post("/collect/event", json={"messageBody": [{"eventType": "nope"}]}).status_code == 400
    assert vm_b.post("/collect/event", data=b"{nope", content_type="application/json").status_code == 400
    overview = console_over(tmp_path, "vm-a", "vm-b").get("/api/overview").get_json()
    assert overview["instances"] == ["vm-a", "vm-b"]
    assert overview["topTypes"] == [["view", 2], ["buy", 1]]
    assert sorted((d["instance"], d["code"]) for d in overview["deadLetters"]) == [
        ("vm-a", "invalid_event_type"), ("vm-b", "invalid_json")
    ]
    assert [s["instance"] for s in overview["stores"]] == ["vm-a", "vm-b"]
    for store in overview["stores"]:
        assert [f["state"] for f in store["files"]] == ["open"] and store["bytes"] > 0
        assert store["diskFreeBytes"] > 0 and (store["unreadableLines"], store["damagedFiles"]) == (0, {})
    assert sorted(f["instance"] for f in overview["store"]["files"]) == ["vm-a", "vm-b"]
    assert overview["store"]["bytes"] == sum(s["bytes"] for s in overview["stores"])


def test_one_directory_answers_exactly_as_before(vms, tmp_path):
    vm_a, _ = vms
    post(vm_a, {"eventType": "view", "eventId": "a-1"})
    assert vm_a.post("/collect/event", json={"messageBody": [{"eventType": "nope"}]}).status_code == 400
    settings = load_settings(environ={"COLLECTOR_DATA_DIR": str(tmp_path / "vm-a")})
    console = create_app(settings, key=None).test_client()
    [event] = console.get("/api/events").get_json()["events"]
    [on_disk] = stored(tmp_path / "vm-a")
    assert "instance" not in event and {key: event[key] for key in on_disk} == on_disk
    overview = console.get("/api/overview").get_json()
    assert "instances" not in overview and "stores" not in overview
    assert all("instance" not in letter for letter in overview["deadLetters"])
    assert all("instance" not in file for file in overview["store"]["files"])
    # Named twice, it is one directory.
    twice = create_app(settings, key=None, data_dirs=[tmp_path / "vm-a", tmp_path / "." / "vm-a"]).test_client()
    assert [e["eventId"] for e in twice.get("/api/events").get_json()["events"]] == ["a-1"]


def test_rejections_and_letters_of_every_directory_each_with_its_instance(vms, tmp_path):
    vm_a, vm_b = vms
    assert vm_a.post("/collect/event", json={"messageBody": [{"eventType": "nope"}]}).status_code == 400
    assert vm_b.post("/collect/event", json={"messageBody": [{"eventType": "also-nope"}]}).status_code == 400
    console = console_over(tmp_path, "vm-a", "vm-b")
    answer = console.get("/api/rejections").get_json()
    assert sorted(letter["instance"] for letter in answer["letters"]) == ["vm-a", "vm-b"]
    assert answer["codes"] == {"invalid_event_type": 2} and answer["replay"] is False
    for listed in answer["letters"]:
        opened = console.get(f"/api/deadletters/{listed['id']}").get_json()
        assert opened["letter"]["instance"] == listed["instance"] and "body" in opened["letter"]
    assert console.get("/api/deadletters/00000000-0000-4000-8000-000000000000").status_code == 404


def test_a_console_over_several_directories_does_not_replay(tmp_path):
    for vm in ("vm-a", "vm-b"):
        (tmp_path / vm).mkdir()
    settings = load_settings(environ={"COLLECTOR_DATA_DIR": str(tmp_path / "vm-a")})
    with pytest.raises(ValueError, match="replays into the one data directory"):
        create_app(settings, key="k" * 20, data_dirs=[tmp_path / "vm-a", tmp_path / "vm-b"], allow_replay=True)
    # One directory, the collector's own: replay is offered.
    console = create_app(settings, key="k" * 20, data_dirs=[tmp_path / "vm-a"], allow_replay=True).test_client()
    headers = {"Authorization": "Bearer " + "k" * 20}
    assert console.get("/api/rejections", headers=headers).get_json()["replay"] is True
