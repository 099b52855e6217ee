"""`collector events cat|verify|stats` on real files in a tmp data directory."""

from __future__ import annotations

import gzip
import os
import re
import subprocess
import sys

import orjson
import pytest

from collector import cli
from collector.settings import declarations, markdown_table
from collector.store import datafiles
from tests.servers import ROOT
from tests.unit.settings.refusals import BIND, REFUSED, WORKERS_NEED_SHARED_STORAGE, refusal


def line(event_type, received_at, **extra):
    return orjson.dumps({"eventType": event_type, "receivedAt": received_at, **extra}) + b"\n"


@pytest.fixture
def data_dir(tmp_path):
    """Two workers' files overlapping in time, one compressed, one still open."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "events-20261126T050000.000000Z-h-1-000001.jsonl.gz").write_bytes(
        gzip.compress(line("a", "2026-11-26T05:00:00.000Z") + line("b", "2026-11-26T05:00:02.000Z"))
    )
    (data / "events-20261126T050001.000000Z-h-2-000001.jsonl").write_bytes(
        line("a", "2026-11-26T05:00:01.000Z") + line("a", "2026-11-26T06:10:00.000Z", text="x\u2028y")
    )
    (data / "events-20261126T061500.000000Z-h-1-000002.jsonl.open").write_bytes(line("b", "2026-11-26T06:15:00.000Z"))
    return data


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cat_prints_every_event_in_time_order_across_files(capsys, data_dir):
    code, out, _ = run(capsys, "events", "cat", "--data-dir", str(data_dir))
    assert code == 0
    lines = out.encode().split(b"\n")[:-1]
    assert [orjson.loads(raw)["receivedAt"][11:19] for raw in lines] == ["05:00:00", "05:00:01", "05:00:02", "06:10:00", "06:15:00"]
    assert orjson.loads(lines[3])["text"] == "x\u2028y", "U+2028 must not split a line"


def test_cat_filters_by_time_and_type(capsys, data_dir):
    code, out, _ = run(
        capsys, "events", "cat", "--since", "2026-11-26T05:00:01Z", "--until", "2026-11-26T06:15", "--type", "a", "--data-dir", str(data_dir)
    )
    assert code == 0
    assert [orjson.loads(raw)["receivedAt"] for raw in out.encode().split(b"\n")[:-1]] == ["2026-11-26T05:00:01.000Z", "2026-11-26T06:10:00.000Z"]


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
    assert ["a", "3"] in rows and ["b", "2"] in rows
    assert ["2026-11-26T05:00Z", "3"] in rows and ["2026-11-26T06:00Z", "2"] in rows


def test_stats_draws_the_hours_as_bars_and_counts_dead_letters_by_code(capsys, data_dir):
    letters = data_dir / "deadletters"
    letters.mkdir()
    (letters / "deadletters-h-1.jsonl").write_bytes(
        b"".join(orjson.dumps({"id": str(n), "code": code}) + b"\n" for n, code in enumerate(["a_code", "a_code", "b_code"]))
    )
    code, out, _ = run(capsys, "events", "stats", "--data-dir", str(data_dir))
    assert code == 0
    bars = [row for row in out.splitlines() if "\u2588" in row]
    assert bars == ["2026-11-26T05h  " + "\u2588" * 40 + " 3", "2026-11-26T06h  " + "\u2588" * 27 + " 2"]
    rows = [row.split() for row in out.splitlines()]
    assert ["a_code", "2"] in rows and ["b_code", "1"] in rows
    assert run(capsys, "events", "stats", "--json", "--data-dir", str(data_dir))[1:] == (
        '{"events": 5, "perType": {"a": 3, "b": 2}, "perHour": {"2026-11-26T05:00Z": 3, "2026-11-26T06:00Z": 2}, '
        '"rejectionsByCode": {"a_code": 2, "b_code": 1}}\n',
        "",
    )


def test_console_refuses_a_bind_off_loopback_without_a_key(capsys, environ, tmp_path):
    environ.setenv("COLLECTOR_DATA_DIR", str(tmp_path))
    code, _, err = run(capsys, "console", "--bind", "0.0.0.0:8700")
    assert (code, err) == (
        2,
        "collector: --bind 0.0.0.0:8700 is reachable from other machines: set COLLECTOR_CONSOLE_KEY "
        "(at least 16 characters), or bind to loopback and use an SSH tunnel\n",
    )
    assert run(capsys, "console", "--bind", "nonsense")[2].startswith("collector: --bind 'nonsense' is not valid")


@pytest.mark.parametrize("argv", [[], ["events"], ["events", "cat"], ["events", "verify"], ["events", "stats"], ["settings"]])
def test_every_command_has_help(capsys, argv):
    with pytest.raises(SystemExit) as exit_:
        cli.main([*argv, "--help"])
    assert exit_.value.code == 0
    assert "usage: collector" in capsys.readouterr().out


def test_missing_data_directory_is_an_error(capsys, tmp_path):
    code, _, err = run(capsys, "events", "verify", "--data-dir", str(tmp_path / "nowhere"))
    assert code == 2 and "no data directory" in err


def test_cat_into_a_pipe_closed_early_ends_without_a_traceback(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    lines = b"".join(line("a", f"2026-11-26T05:{n // 60 % 60:02d}:{n % 60:02d}.000Z", pad="x" * 200) for n in range(3000))
    (data / "events-20261126T050000.000000Z-h-1-000001.jsonl").write_bytes(lines)
    pipeline = f"{sys.executable} -m collector events cat --data-dir {data} | head -n 1"
    result = subprocess.run(["bash", "-o", "pipefail", "-c", pipeline], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.stdout.count("\n") == 1
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr


@pytest.fixture
def environ(monkeypatch, tmp_path):
    """The settings command's environment: no COLLECTOR_* but what a test sets."""
    for name in [name for name in os.environ if name.startswith("COLLECTOR_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def test_settings_prints_every_variable_with_its_value_and_default(capsys, environ):
    environ.setenv("COLLECTOR_FSYNC", "always")
    code, out, _ = run(capsys, "settings")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["variable", "value", "default", "meaning"]
    fsync = next(line for line in lines if line.startswith("COLLECTOR_FSYNC "))
    assert fsync.split()[1:3] == ["always", "interval"]
    assert [line.split()[0] for line in lines[1:]] == [setting.env for setting in declarations()]


def test_settings_shows_values_as_written_in_aligned_columns(capsys, environ):
    environ.setenv("COLLECTOR_ROTATE_SECONDS", "7200.0")
    environ.setenv("COLLECTOR_HOST_NAME", "web-1")
    code, out, _ = run(capsys, "settings")
    assert code == 0
    header, *lines = out.splitlines()
    starts = [header.index(title) for title in ("value", "default", "meaning")]
    table = {line.split()[0]: [line[a:b].rstrip() for a, b in zip([0, *starts], [*starts, None])] for line in lines}
    assert table["COLLECTOR_ROTATE_SECONDS"][1:3] == ["7200", "3600"]
    assert table["COLLECTOR_DATA_DIR"][1:3] == ["./data", "./data"]
    assert table["COLLECTOR_WORKERS"][1:3] == ["auto", "auto"]
    assert table["COLLECTOR_EVENT_TYPES"][1:3] == ["(empty)", "(empty)"]
    assert table["COLLECTOR_RETENTION_DAYS"][1:3] == ["(empty)", "(empty)"]
    assert table["COLLECTOR_HOST_NAME"][1:3] == ["web-1", "(empty)"]
    assert table["COLLECTOR_FSYNC"][3].endswith("always, interval or never; see Durability (docs/stored-lines-and-files.md)")


def test_settings_markdown_is_the_readme_table_and_needs_no_valid_environment(capsys, environ):
    environ.setenv("COLLECTOR_FSYNC", "sometimes")
    code, out, _ = run(capsys, "settings", "--markdown")
    assert code == 0 and out == markdown_table()


def test_settings_names_an_invalid_variable(capsys, environ):
    environ.setenv("COLLECTOR_FSYNC", "sometimes")
    code, _, err = run(capsys, "settings")
    assert code == 2
    assert err.strip() == "collector: COLLECTOR_FSYNC='sometimes' is not valid: expected one of always, interval, never"


@pytest.mark.parametrize("variable, value, expected", REFUSED)
def test_settings_refuses_what_the_service_would_refuse_in_one_line(capsys, environ, variable, value, expected):
    environ.setenv(variable, value)
    code, out, err = run(capsys, "settings")
    assert (code, out, err) == (2, "", f"collector: {refusal(variable, value, expected)}\n")


def test_settings_refuses_several_workers_with_memory_storage(capsys, environ):
    environ.setenv("COLLECTOR_WORKERS", "3")
    environ.setenv("COLLECTOR_RATE_LIMIT_STORAGE", "memory://")
    code, _, err = run(capsys, "settings")
    assert (code, err) == (2, f"collector: {WORKERS_NEED_SHARED_STORAGE}\n")


def test_settings_refuses_a_data_directory_under_a_file_and_creates_nothing(capsys, environ, tmp_path):
    (tmp_path / "file").write_text("a file")
    environ.setenv("COLLECTOR_DATA_DIR", str(tmp_path / "file" / "data"))
    code, _, err = run(capsys, "settings")
    assert code == 2 and err.endswith(f": {tmp_path / 'file'} is not a directory\n")
    environ.setenv("COLLECTOR_DATA_DIR", str(tmp_path / "new" / "data"))
    assert run(capsys, "settings")[0] == 0
    assert not (tmp_path / "new").exists()


def test_settings_command_refuses_without_a_traceback():
    env = {"PATH": "/usr/bin:/bin", "COLLECTOR_BIND": "127.0.0.1:99999"}
    result = subprocess.run(
        [sys.executable, "-m", "collector", "settings"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == f"collector: {refusal('COLLECTOR_BIND', '127.0.0.1:99999', BIND)}\n"


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
        line("c", "2026-11-26T05:00:00.500Z") + line("d", "2026-11-26T05:00:00.480Z") + line("c", "2026-11-26T06:12:00.000Z")
    )
    (data / "events-20261126T061400.000000Z-b-7-000002.jsonl.gz").write_bytes(gzip.compress(line("a", "2026-11-26T06:14:00.000Z")))
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
    code, out, _ = run(capsys, "events", "cat", "--type", "a", "--since", "2026-11-26T06:00", "--data-dir", str(data_dir), str(second_data_dir))
    assert code == 0
    assert [orjson.loads(raw)["receivedAt"] for raw in out.encode().split(b"\n")[:-1]] == ["2026-11-26T06:10:00.000Z", "2026-11-26T06:14:00.000Z"]


def test_cat_reads_a_data_directory_named_twice_once(capsys, data_dir, monkeypatch):
    monkeypatch.chdir(data_dir.parent)
    code, out, _ = run(capsys, "events", "cat", "--data-dir", str(data_dir), "data")
    assert code == 0 and out.count("\n") == 5


def test_cat_refuses_when_one_of_several_data_directories_is_missing(capsys, data_dir, tmp_path):
    code, out, err = run(capsys, "events", "cat", "--data-dir", str(data_dir), str(tmp_path / "nowhere"))
    assert code == 2 and out == ""
    assert f"no data directory at {tmp_path / 'nowhere'}" in err


def test_cat_help_says_it_takes_several_data_directories(capsys):
    with pytest.raises(SystemExit):
        cli.main(["events", "cat", "--help"])
    assert "--data-dir DIR [DIR ...]" in capsys.readouterr().out


def test_a_second_deadletter_replay_is_refused_naming_the_lock(capsys, environ, tmp_path):
    data = tmp_path / "data"
    (data / "deadletters").mkdir(parents=True)
    (data / "deadletters" / "deadletters-20261203T000000.000000Z-h-1.jsonl").write_bytes(
        orjson.dumps({"id": "l-1", "receivedAt": "2026-12-03T00:00:00.000Z", "status": 400,
                      "code": "invalid_event_type", "body": '{"messageBody": [{"eventType": "a"}]}'}) + b"\n"
    )
    environ.setenv("COLLECTOR_DATA_DIR", str(data))
    lock = data / "deadletters" / "replay.lock"
    held = subprocess.Popen(  # another replay, in another process, holding the lock
        [sys.executable, "-c", "import fcntl, sys; f = open(sys.argv[1], 'w'); fcntl.flock(f, fcntl.LOCK_EX); "
         "print('held', flush=True); sys.stdin.read()", str(lock)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert held.stdout.readline() == "held\n"
        code, out, err = run(capsys, "deadletter", "replay")
    finally:
        held.communicate("", timeout=30)
    assert (code, out) == (75, "")
    assert str(lock) in err and "another `collector deadletter replay` is running" in err
    assert datafiles.data_files(data) == [], "nothing stored"
    assert run(capsys, "deadletter", "replay")[0] == 0, "runs once the other has finished"
    assert len(datafiles.data_files(data)) == 1


def test_settings_refuses_an_event_age_past_a_century(capsys, monkeypatch):
    # It once passed here, then every event with a timestamp got 500.
    monkeypatch.setenv("COLLECTOR_MAX_EVENT_AGE_DAYS", "1000000")
    assert cli.main(["settings"]) == 2
    assert capsys.readouterr().err.strip() == (
        "collector: COLLECTOR_MAX_EVENT_AGE_DAYS='1000000' is not valid: expected a number of days from 0.001 to 36500"
    )


def test_settings_reads_an_environment_file_as_systemd_does(capsys, monkeypatch, tmp_path):
    # `(set -a; . collector.env; collector settings)` ran `per` as a command and showed the default.
    env = tmp_path / "collector.env"
    env.write_text(f"# as in docs/deploying.md\nCOLLECTOR_DATA_DIR={tmp_path}\nCOLLECTOR_RATE_LIMIT=10 per minute\n")
    monkeypatch.setenv("COLLECTOR_THREADS", "7")  # the caller's shell: the service does not see it
    assert cli.main(["settings", "--env-file", str(env)]) == 0
    rows = {row[0]: row[1] for row in (re.split(" {2,}", line) for line in capsys.readouterr().out.splitlines())}
    assert rows["COLLECTOR_RATE_LIMIT"] == "10 per minute"
    assert rows["COLLECTOR_THREADS"] == "4"


def test_settings_refuses_a_missing_environment_file_in_one_line(capsys, tmp_path):
    assert cli.main(["settings", "--env-file", str(tmp_path / "nope.env")]) == 2
    assert capsys.readouterr().err.strip() == f"collector: --env-file '{tmp_path}/nope.env': No such file or directory"
