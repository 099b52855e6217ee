"""collector/cli/events.py: `collector events cat|verify|stats` on real files in a tmp data directory."""

from __future__ import annotations

import gzip

import orjson
import pytest

from collector import cli
from collector.store import datafiles
from tests.unit.cli.helpers import line, run


def test_cat_prints_every_event_in_time_order_across_files(capsys, data_dir):
    code, out, _ = run(capsys, "events", "cat", "--data-dir", str(data_dir))
    assert code == 0
    lines = out.encode().split(b"\n")[:-1]
    assert [orjson.loads(raw)["receivedAt"][11:19] for raw in lines] == [
        "05:00:00",
        "05:00:01",
        "05:00:02",
        "06:10:00",
        "06:15:00",
    ]
    assert orjson.loads(lines[3])["text"] == "x\u2028y", "U+2028 must not split a line"


def test_cat_filters_by_time_and_type(capsys, data_dir):
    code, out, _ = run(
        capsys,
        "events",
        "cat",
        "--since",
        "2026-11-26T05:00:01Z",
        "--until",
        "2026-11-26T06:15",
        "--type",
        "a",
        "--data-dir",
        str(data_dir),
    )
    assert code == 0
    assert [orjson.loads(raw)["receivedAt"] for raw in out.encode().split(b"\n")[:-1]] == [
        "2026-11-26T05:00:01.000Z",
        "2026-11-26T06:10:00.000Z",
    ]


def test_cat_follows_a_file_finished_and_compressed_after_it_was_listed(data_dir):
    listed = datafiles.data_files(data_dir)
    opened = data_dir / "events-20261126T061500.000000Z-h-1-000002.jsonl.open"
    finished = datafiles.finished_path(opened)
    opened.rename(finished)
    finished.with_name(finished.name + ".gz").write_bytes(gzip.compress(finished.read_bytes()))
    finished.unlink()
    assert [len(list(datafiles.iter_lines(path))) for path in listed] == [2, 2, 1]


def test_verify_counts_per_file_and_reports_each_bad_line_with_its_number(capsys, data_dir):
    code, out, _ = run(capsys, "events", "verify", "--data-dir", str(data_dir))
    assert code == 0
    assert "3 files, 5 events, 0 problems" in out

    bad = data_dir / "events-20261126T070000.000000Z-h-3-000001.jsonl"
    bad.write_bytes(line("a", "2026-11-26T07:00:00.000Z") + b"{not json}\n" + b'{"eventType":"torn"')
    code, out, _ = run(capsys, "events", "verify", "--data-dir", str(data_dir))
    assert code == 1
    assert f"{bad}:2: not valid JSON" in out
    assert f"{bad}:3: torn line" in out
    assert "4 files, 6 events, 2 problems" in out


def test_stats_counts_events_per_type_and_hour(capsys, data_dir):
    code, out, _ = run(capsys, "events", "stats", "--data-dir", str(data_dir))
    assert code == 0
    rows = [row.split() for row in out.splitlines()]
    assert ["a", "3", "3", "0", "0%"] in rows and ["b", "2", "2", "0", "0%"] in rows  # people and bots apart
    assert ["2026-11-26T05:00Z", "3"] in rows and ["2026-11-26T06:00Z", "2"] in rows


def test_stats_draws_the_hours_as_bars_and_counts_dead_letters_by_code(capsys, data_dir):
    letters = data_dir / "deadletters"
    letters.mkdir()
    (letters / "deadletters-h-1.jsonl").write_bytes(
        b"".join(
            orjson.dumps({"id": str(n), "code": code}) + b"\n" for n, code in enumerate(["a_code", "a_code", "b_code"])
        )
    )
    code, out, _ = run(capsys, "events", "stats", "--data-dir", str(data_dir))
    assert code == 0
    bars = [row for row in out.splitlines() if "\u2588" in row]
    assert bars == ["2026-11-26T05h  " + "\u2588" * 40 + " 3", "2026-11-26T06h  " + "\u2588" * 27 + " 2"]
    rows = [row.split() for row in out.splitlines()]
    assert ["a_code", "2"] in rows and ["b_code", "1"] in rows
    assert "rejected requests by code (dead letters)" in out.splitlines()
    assert run(capsys, "events", "stats", "--json", "--data-dir", str(data_dir))[1:] == (
        '{"events": 5, "bots": 0, "perType": {"a": 3, "b": 2}, "botsPerType": {}, "botsByCategory": {}, '
        '"perHour": {"2026-11-26T05:00Z": 3, "2026-11-26T06:00Z": 2}, '
        '"rejectionsByCode": {"a_code": 2, "b_code": 1}}\n',
        "",
    )


def damage(data_dir):
    """A truncated .jsonl.gz, a '.jsonl.gz' that is not gzip, and a file of binary garbage."""
    whole = gzip.compress(b"".join(line("t", f"2026-11-26T07:00:{n:02d}.000Z") for n in range(40)))
    (data_dir / "events-20261126T070000.000000Z-h-4-000001.jsonl.gz").write_bytes(whole[: len(whole) // 2])
    (data_dir / "events-20261126T070100.000000Z-h-5-000001.jsonl.gz").write_bytes(line("n", "2026-11-26T07:01:00.000Z"))
    (data_dir / "events-20261126T070200.000000Z-h-6-000001.jsonl").write_bytes(bytes(range(256)) * 8 + b"\n")


@pytest.mark.parametrize("command", ["cat", "stats"])
def test_readers_report_each_damaged_file_read_the_rest_and_exit_1(capsys, data_dir, command):
    damage(data_dir)
    code, out, err = run(capsys, "events", command, "--data-dir", str(data_dir))
    assert code == 1
    complaints = err.splitlines()
    assert any("h-4-000001.jsonl.gz" in c and "truncated" in c for c in complaints), err
    assert any("h-5-000001.jsonl.gz" in c and "unreadable" in c for c in complaints), err
    assert any("h-6-000001.jsonl" in c for c in complaints), err
    if command == "cat":
        types = [orjson.loads(raw)["eventType"] for raw in out.encode().split(b"\n")[:-1]]
        # Every event of the healthy files, whatever order the damaged ones came in.
        assert sorted(t for t in types if t != "t") == ["a", "a", "a", "b", "b"]
    else:
        assert "events" in out and "a  " in out


def test_readers_read_integers_beyond_64_bits_exactly(capsys, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    big = "9" * 100
    text = f'{{"eventType":"big","n":{big},"receivedAt":"2026-11-26T05:00:00.000Z"}}\n'.encode()
    (data / "events-20261126T050000.000000Z-h-1-000001.jsonl").write_bytes(text * 3)
    code, out, err = run(capsys, "events", "cat", "--data-dir", str(data))
    assert (code, err, out.encode()) == (0, "", text * 3)
    code, out, err = run(capsys, "events", "verify", "--data-dir", str(data))
    assert (code, err) == (0, "")
    assert "1 file, 3 events, 0 problems" in out


@pytest.fixture
def second_data_dir(tmp_path):
    """Another VM's files, copied beside the first's: overlapping it in time, one compressed.

    Its first file holds two lines out of order, as two requests of one worker
    leave them when the one that came second is written first.
    """
    data = tmp_path / "vm-b"
    data.mkdir()
    (data / "events-20261126T050000.500000Z-b-7-000001.jsonl").write_bytes(
        line("c", "2026-11-26T05:00:00.500Z")
        + line("d", "2026-11-26T05:00:00.480Z")
        + line("c", "2026-11-26T06:12:00.000Z")
    )
    (data / "events-20261126T061400.000000Z-b-7-000002.jsonl.gz").write_bytes(
        gzip.compress(line("a", "2026-11-26T06:14:00.000Z"))
    )
    return data


@pytest.mark.parametrize("form", ["--data-dir A --data-dir B", "--data-dir A B"])
def test_cat_reads_several_data_directories_as_one_stream_in_time_order(capsys, data_dir, second_data_dir, form):
    dirs = {"A": str(data_dir), "B": str(second_data_dir)}
    code, out, _ = run(capsys, "events", "cat", *[dirs.get(word, word) for word in form.split()])
    assert code == 0
    events = [orjson.loads(raw) for raw in out.encode().split(b"\n")[:-1]]
    assert [(event["eventType"], event["receivedAt"][11:23]) for event in events] == [
        ("a", "05:00:00.000"),
        ("d", "05:00:00.480"),
        ("c", "05:00:00.500"),
        ("a", "05:00:01.000"),
        ("b", "05:00:02.000"),
        ("a", "06:10:00.000"),
        ("c", "06:12:00.000"),
        ("a", "06:14:00.000"),
        ("b", "06:15:00.000"),
    ]


def test_cat_filters_several_data_directories_alike(capsys, data_dir, second_data_dir):
    code, out, _ = run(
        capsys,
        "events",
        "cat",
        "--type",
        "a",
        "--since",
        "2026-11-26T06:00",
        "--data-dir",
        str(data_dir),
        str(second_data_dir),
    )
    assert code == 0
    assert [orjson.loads(raw)["receivedAt"] for raw in out.encode().split(b"\n")[:-1]] == [
        "2026-11-26T06:10:00.000Z",
        "2026-11-26T06:14:00.000Z",
    ]


def test_cat_reads_a_data_directory_named_twice_once(capsys, data_dir, monkeypatch):
    monkeypatch.chdir(data_dir.parent)
    code, out, _ = run(capsys, "events", "cat", "--data-dir", str(data_dir), "data")
    assert code == 0 and out.count("\n") == 5


def test_cat_stops_when_one_of_several_data_directories_is_missing(capsys, data_dir, tmp_path):
    code, out, err = run(capsys, "events", "cat", "--data-dir", str(data_dir), str(tmp_path / "nowhere"))
    assert code == 2 and out == ""
    assert f"no data directory at {tmp_path / 'nowhere'}" in err


def test_cat_help_says_it_takes_several_data_directories(capsys):
    with pytest.raises(SystemExit):
        cli.main(["events", "cat", "--help"])
    assert "--data-dir DIR [DIR ...]" in capsys.readouterr().out


CRAWLER = {"client": {"userAgent": "Googlebot/2.1", "bot": {"name": "Googlebot", "category": "crawler"}}}
DRIVEN = {"client": {"userAgent": "Mozilla/5.0", "bot": {"name": "WebDriver", "category": "headless"}}}


@pytest.fixture
def mixed_dir(tmp_path):
    """People and bots: 3 page views (1 of them a crawler's), 2 clicks (1 of a driven browser)."""
    data = tmp_path / "mixed"
    data.mkdir()
    (data / "events-20261126T050000.000000Z-h-1-000001.jsonl").write_bytes(
        line("page_view", "2026-11-26T05:00:00.000Z", client={"ip": "203.0.113.7"})
        + line("page_view", "2026-11-26T05:00:01.000Z", **CRAWLER)
        + line("click", "2026-11-26T05:00:02.000Z", **DRIVEN)
        + line("page_view", "2026-11-26T06:00:00.000Z")
        + line("click", "2026-11-26T06:00:01.000Z")
    )
    return data


def cat_times(capsys, data_dir, *options):
    code, out, _ = run(capsys, "events", "cat", *options, "--data-dir", str(data_dir))
    assert code == 0
    return [orjson.loads(raw)["receivedAt"][11:19] for raw in out.encode().split(b"\n")[:-1]]


def test_cat_prints_bots_events_too_unless_told_to_leave_them_out_or_keep_only_them(capsys, mixed_dir):
    assert cat_times(capsys, mixed_dir) == ["05:00:00", "05:00:01", "05:00:02", "06:00:00", "06:00:01"]
    assert cat_times(capsys, mixed_dir, "--bots", "exclude") == ["05:00:00", "06:00:00", "06:00:01"]
    assert cat_times(capsys, mixed_dir, "--bots", "only") == ["05:00:01", "05:00:02"]
    assert cat_times(capsys, mixed_dir, "--bots", "only", "--type", "click") == ["05:00:02"]


def test_cat_refuses_another_bots_choice(capsys, mixed_dir):
    with pytest.raises(SystemExit):
        run(capsys, "events", "cat", "--bots", "hide", "--data-dir", str(mixed_dir))
    assert "invalid choice: 'hide'" in capsys.readouterr().err


def test_stats_shows_people_and_bots_apart_with_the_bot_share_per_type(capsys, mixed_dir):
    code, out, _ = run(capsys, "events", "stats", "--data-dir", str(mixed_dir))
    assert code == 0
    rows = [row.split() for row in out.splitlines()]
    assert ["eventType", "events", "people", "bots", "bot", "share"] in rows
    assert ["page_view", "3", "2", "1", "33%"] in rows and ["click", "2", "1", "1", "50%"] in rows
    assert ["crawler", "1"] in rows and ["headless", "1"] in rows
    assert out.splitlines()[-1] == "5 events, 2 of them from bots"


def test_stats_can_leave_bots_out_or_count_only_them(capsys, mixed_dir):
    _, out, _ = run(capsys, "events", "stats", "--bots", "exclude", "--data-dir", str(mixed_dir))
    rows = [row.split() for row in out.splitlines()]
    assert ["page_view", "2", "2", "0", "0%"] in rows and ["2026-11-26T05:00Z", "1"] in rows
    assert out.splitlines()[-1] == "3 events, 0 of them from bots"
    _, out, _ = run(capsys, "events", "stats", "--json", "--bots", "only", "--data-dir", str(mixed_dir))
    summary = orjson.loads(out)
    assert (summary["events"], summary["bots"], summary["perType"]) == (2, 2, {"page_view": 1, "click": 1})
    assert summary["botsByCategory"] == {"crawler": 1, "headless": 1}
