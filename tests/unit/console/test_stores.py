"""The console over several data directories: each answer merges those of one index per directory."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import pytest

from collector.console.index import RECENT_BYTES, RECENT_EVENTS, StoreIndex
from collector.console.stores import Stores, instance_names, latest_letters, shown
from collector.ops.instrument import MAX_EVENT_TYPES, OTHER
from tests.unit.console.test_index import NOW, Clock, big_line, bot_line, line, name, total


def write(data_dir: Path, *lines: bytes, compressed: bool = False) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    if compressed:
        with gzip.open(data_dir / (name(1, 1) + ".jsonl.gz"), "wb") as out:
            out.write(b"".join(lines))
    else:
        (data_dir / (name(1, 1) + ".jsonl.open")).write_bytes(b"".join(lines))


@pytest.fixture
def two(tmp_path) -> Stores:
    """vm-a: views at even seconds and a bot's signup; vm-b (a shipped, compressed copy): views at odd seconds."""
    write(tmp_path / "vm-a", *(line("view", NOW - 100 + n, n) for n in range(0, 10, 2)),
          bot_line("signup", NOW - 50, 20))
    write(tmp_path / "vm-b", *(line("view", NOW - 100 + n, n) for n in range(1, 10, 2)), compressed=True)
    stores = Stores([tmp_path / "vm-a", tmp_path / "vm-b"], clock=Clock())
    stores.refresh(force=True)
    return stores


def test_the_newest_are_merged_newest_first_each_with_its_instance(two):
    found = two.newest(4)
    assert [(instance, event.event_id) for instance, event in found] == [
        ("vm-a", "e-20"), ("vm-b", "e-9"), ("vm-a", "e-8"), ("vm-b", "e-7")
    ]
    assert len(two.newest(1000)) == 11


def test_every_criterion_is_passed_to_each_index_unchanged(two, monkeypatch):
    asked = []
    real = StoreIndex.newest

    def newest(self, limit, *args, **criteria):
        asked.append((self.data_dir.name, limit, criteria))
        return real(self, limit, *args, **criteria)

    monkeypatch.setattr(StoreIndex, "newest", newest)
    found = two.newest(3, event_type="view", query=None, bots="exclude")
    assert [event.event_id for _, event in found] == ["e-9", "e-8", "e-7"]
    assert asked == [
        ("vm-a", 3, {"event_type": "view", "query": None, "bots": "exclude"}),
        ("vm-b", 3, {"event_type": "view", "query": None, "bots": "exclude"}),
    ]
    asked.clear()
    assert [event.event_id for _, event in two.newest(2, "view")] == ["e-9", "e-8"]
    assert [criteria for *_, criteria in asked] == [{}, {}]
    # A criterion the wrapper has never heard of reaches the indexes as it is (a later search flows through).
    with pytest.raises(TypeError, match="no_such_criterion"):
        two.newest(3, no_such_criterion="x")


def test_counts_are_added_up_over_the_directories(two):
    assert two.top_types(60) == [("view", 10), ("signup", 1)]
    assert two.top_types(60, bots="only") == [("signup", 1)]
    assert two.bot_share(60) == [("view", 10, 0), ("signup", 1, 1)]
    series = two.series(60, 60)
    assert {t: sum(c for _, c in points) for t, points in series.items()} == {"signup": 1, "view": 10}
    assert len(series["view"]) == 60 and len(series["signup"]) == 60
    assert total(two.series(10080, 3600, bots="exclude")) == 10


def test_the_top_types_merged_are_exact_not_the_top_of_each_directorys_top(tmp_path):
    # "shared" is 11th in each directory (not in either's top 10) but first over both.
    for vm, own in (("vm-a", "a"), ("vm-b", "b")):
        lines = [line(f"{own}{t}", NOW - 60, t * 100 + n) for t in range(10) for n in range(3)]
        lines += [line("shared", NOW - 60, 5000 + n) for n in range(2)]
        write(tmp_path / vm, *lines)
    stores = Stores([tmp_path / "vm-a", tmp_path / "vm-b"], clock=Clock())
    stores.refresh(force=True)
    assert stores.top_types(60)[0] == ("shared", 4)
    assert stores.bot_share(60)[0] == ("shared", 4, 0)


def test_the_merged_series_still_name_at_most_max_event_types(tmp_path):
    for vm in ("vm-a", "vm-b"):
        write(tmp_path / vm, *(line(f"{vm}-{t}", NOW - 60, t) for t in range(MAX_EVENT_TYPES)))
    stores = Stores([tmp_path / "vm-a", tmp_path / "vm-b"], clock=Clock())
    stores.refresh(force=True)
    series = stores.series(60, 60)
    assert len(series) == MAX_EVENT_TYPES + 1 and OTHER in series
    assert total(series) == 2 * MAX_EVENT_TYPES


def test_the_memory_bound_is_the_whole_consoles_split_between_the_directories(tmp_path):
    stores = Stores([tmp_path / "a", tmp_path / "b", tmp_path / "c"])
    indexes = stores.indexes.values()
    assert sum(index._recent_limit for index in indexes) <= RECENT_EVENTS
    assert sum(index._recent_bytes_limit for index in indexes) <= RECENT_BYTES
    # One directory keeps what the console kept before.
    [alone] = Stores([tmp_path / "a"]).indexes.values()
    assert (alone._recent_limit, alone._recent_bytes_limit) == (RECENT_EVENTS, RECENT_BYTES)


def test_what_is_kept_over_every_directory_stays_within_one_budget(tmp_path):
    # Each directory alone holds more than the whole budget of 200 KiB (or 30 events).
    for vm in ("vm-a", "vm-b"):
        write(tmp_path / vm, *(big_line(n, NOW - 100 + n, 8 * 1024) for n in range(40)))
    stores = Stores([tmp_path / "vm-a", tmp_path / "vm-b"], clock=Clock(), recent=30, recent_bytes=200 * 1024)
    stores.refresh(force=True)
    kept = stores.newest(10**6)
    assert 0 < len(kept) <= 30
    assert sum(index.recent_bytes for index in stores.indexes.values()) <= 200 * 1024
    assert {instance for instance, _ in kept} == {"vm-a", "vm-b"}
    assert kept[0][1].event_id == "e-39"  # the newest are those kept


def test_an_instance_is_its_directorys_name_or_as_much_of_its_path_as_tells_it_apart(tmp_path):
    assert instance_names([Path("/srv/events/vm-a"), Path("/srv/events/vm-b")]) == ["vm-a", "vm-b"]
    assert instance_names([Path("/srv/a/data"), Path("/srv/b/data"), Path("/srv/c/logs")]) == [
        "a/data", "b/data", "logs"
    ]
    assert instance_names([Path("/x/a/data"), Path("/y/a/data")]) == ["x/a/data", "y/a/data"]
    assert instance_names([Path("/"), Path("/srv/data")]) == ["/", "data"]
    assert instance_names([Path(".")]) == [Path.cwd().name]


def test_a_directory_named_twice_is_read_once(tmp_path):
    (tmp_path / "data").mkdir()
    stores = Stores([tmp_path / "data", tmp_path / "." / "data"])
    assert list(stores.directories) == ["data"]
    assert not stores.several


def test_an_event_carries_its_instance_only_when_there_are_several(two, tmp_path):
    instance, event = two.newest(1)[0]
    assert shown(instance, event, several=True) == {**orjson.loads(event.line), "instance": "vm-a"}
    assert shown(instance, event, several=False) == orjson.loads(event.line)


def test_damaged_files_are_named_with_their_instance_and_told_per_instance(tmp_path):
    write(tmp_path / "vm-a", line("view", NOW, 1))
    (tmp_path / "vm-b").mkdir()
    (tmp_path / "vm-b" / (name(2, 1) + ".jsonl.gz")).write_bytes(b"not gzip")
    stores = Stores([tmp_path / "vm-a", tmp_path / "vm-b"], clock=Clock())
    stores.refresh(force=True)
    assert list(stores.damaged()) == ["vm-b/" + name(2, 1) + ".jsonl.gz"]
    assert stores.unreadable_lines() == 1
    files, panel = stores.store_panel()
    assert panel["instances"] == ["vm-a", "vm-b"]
    [a, b] = panel["stores"]
    assert (a["instance"], a["unreadableLines"], a["damagedFiles"], [f["state"] for f in a["files"]]) == (
        "vm-a", 0, {}, ["open"]
    )
    assert (b["instance"], b["unreadableLines"], list(b["damagedFiles"])) == ("vm-b", 1, [name(2, 1) + ".jsonl.gz"])
    assert a["diskFreeBytes"] > 0
    assert sorted((f["instance"], f["name"]) for f in files["files"]) == [
        ("vm-a", name(1, 1) + ".jsonl.open"), ("vm-b", name(2, 1) + ".jsonl.gz")
    ]
    assert files["bytes"] == a["bytes"] + b["bytes"]


def test_one_directory_answers_as_its_index_does(tmp_path):
    write(tmp_path / "data", line("view", NOW, 1))
    (tmp_path / "data" / (name(2, 1) + ".jsonl.gz")).write_bytes(b"not gzip")
    stores = Stores([tmp_path / "data"], clock=Clock())
    stores.refresh(force=True)
    files, panel = stores.store_panel()
    assert panel == {}
    assert list(stores.damaged()) == [name(2, 1) + ".jsonl.gz"]
    assert [f["name"] for f in files["files"]] == [name(2, 1) + ".jsonl.gz", name(1, 1) + ".jsonl.open"]


def test_dead_letters_of_every_directory_newest_first_each_with_its_instance():
    letters = {
        "vm-a": [
            {"receivedAt": "2026-11-30T00:00:03Z", "code": "a3"}, {"receivedAt": "2026-11-30T00:00:01Z", "code": "a1"}
        ],
        "vm-b": [{"receivedAt": "2026-11-30T00:00:02Z", "code": "b2"}],
    }
    assert latest_letters(letters, limit=2) == [
        {"receivedAt": "2026-11-30T00:00:03Z", "code": "a3", "instance": "vm-a"},
        {"receivedAt": "2026-11-30T00:00:02Z", "code": "b2", "instance": "vm-b"},
    ]
    alone = {"data": letters["vm-a"]}
    assert latest_letters(alone, limit=20) == letters["vm-a"], "one directory: the letters as they were"


def test_a_minute_begun_between_two_indexes_asked_gives_the_latest_window(tmp_path):
    class Ticking(Clock):
        """Each index reads the clock once per series: the second reads it a minute later."""

        def __call__(self) -> float:
            self.now += 60
            return self.now - 60

    write(tmp_path / "vm-a", line("view", NOW - 30, 1))
    write(tmp_path / "vm-b", line("view", NOW + 30, 2))
    clock = Ticking()
    stores = Stores([tmp_path / "vm-a", tmp_path / "vm-b"], clock=clock)
    stores.refresh(force=True)
    clock.now = NOW
    [points] = stores.series(60, 60).values()
    assert len(points) == 60 and points[-1][0] == int(NOW // 60) * 60 + 60
    assert total({"view": points}) == 2
