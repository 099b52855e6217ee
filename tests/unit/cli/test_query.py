"""`collector events query`: SQL over the store, with `collector events cat`'s reading rules."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from collector import jsontext
from collector.cli import query
from collector.query import formats, loading
from tests.processes import wait_until
from tests.unit.cli.helpers import line, run

BOT = {"ip": "203.0.113.9", "userAgent": "Googlebot/2.1", "bot": {"name": "Googlebot", "category": "crawler"}}
BIG = 123456789012345678901234567890123
# `--jobs 2` is refused where there are fewer cores (CI has two).
TWO_CORES = pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="--jobs 2 needs two cores")


@pytest.fixture
def store(tmp_path):
    """Plain, .gz and open files of two workers over two days; the open file's last line torn (a write under way)."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "events-20261126T050000.000000Z-h-1-000001.jsonl.gz").write_bytes(
        gzip.compress(
            line("page_view", "2026-11-26T05:00:00.000Z", userId="u1", properties={"path": "/a"})
            + line("signup", "2026-11-26T05:00:02.000Z", userId="u1")
            + line("page_view", "2026-11-26T05:00:03.000Z", anonymousId="x1", properties={"path": "/b"})
        )
    )
    (data / "events-20261126T050001.000000Z-h-2-000001.jsonl").write_bytes(
        line("page_view", "2026-11-26T05:00:01.000Z", anonymousId="x2", properties={"path": "/a"})
        + line("page_view", "2026-11-26T23:59:59.999Z", properties={"path": "/a"}, client=BOT)
    )
    (data / "events-20261127T001500.000000Z-h-1-000002.jsonl.open").write_bytes(
        b'{"eventType":"page_view","receivedAt":"2026-11-27T00:15:00.000Z","userId":"u1",'
        + f'"properties":{{"path":"/b","n":{BIG}}}}}\n'.encode()
        + line("signup", "2026-11-27T00:16:00.000Z", userId="u2")
        + b'{"eventType":"page_view","receivedAt":"2026-11-27T00:17'
    )
    return data


def _cat(capsys, data):
    _code, out, _err = run(capsys, "events", "cat", "--data-dir", str(data))
    return [jsontext.loads(raw.encode()) for raw in out.splitlines(keepends=True)]


def _query(capsys, *argv):
    code, out, err = run(capsys, "events", "query", *argv)
    return code, [json.loads(raw) for raw in out.splitlines()], err


def test_daily_types_counts_what_cat_reads(capsys, store):
    events = _cat(capsys, store)
    expected = Counter((event["receivedAt"][:10], event["eventType"]) for event in events)
    _code, rows, _err = _query(capsys, "--name", "daily-types", "--format", "jsonl", "--data-dir", str(store))
    assert {(row["day"], row["eventType"]): row["events"] for row in rows} == expected
    assert sum(expected.values()) == 7  # the torn line is no event: said, not counted


def test_daily_users_counts_the_people_cat_reads(capsys, store):
    events = [event for event in _cat(capsys, store) if "bot" not in event.get("client", {})]
    people: dict[str, set[str]] = {}
    for event in events:
        people.setdefault(event["receivedAt"][:10], set()).add(event.get("userId") or event.get("anonymousId"))
    code, rows, _err = _query(capsys, "--name", "daily-users", "--format", "jsonl", "--data-dir", str(store))
    assert code == 1  # the torn line
    assert {row["day"]: row["people"] for row in rows} == {day: len(ids - {None}) for day, ids in people.items()}


def test_top_pages_and_bots_count_what_cat_reads(capsys, store):
    events = _cat(capsys, store)
    views = Counter(event["properties"]["path"] for event in events if event["eventType"] == "page_view")
    _code, rows, _err = _query(capsys, "--name", "top-pages", "--format", "jsonl", "--data-dir", str(store))
    assert {row["path"]: row["views"] for row in rows} == views
    _code, rows, _err = _query(capsys, "--name", "bots", "--format", "jsonl", "--data-dir", str(store))
    assert rows == [{"bot": "Googlebot", "category": "crawler", "events": 1}]


def test_the_torn_line_of_an_open_file_is_said_and_the_exit_status_is_1(capsys, store):
    code, rows, err = _query(capsys, "select count(*) AS n from events", "--format", "jsonl", "--data-dir", str(store))
    assert rows == [{"n": 7}]
    assert code == 1
    assert "events-20261127T001500.000000Z-h-1-000002.jsonl.open:3: torn line" in err


def test_a_damaged_gz_file_is_said_and_the_others_read(capsys, store):
    (store / "events-20261126T050000.000000Z-h-1-000001.jsonl.gz").write_bytes(b"not gzip")
    code, rows, err = _query(capsys, "select count(*) AS n from events", "--format", "jsonl", "--data-dir", str(store))
    assert rows == [{"n": 4}]
    assert code == 1
    assert "h-1-000001.jsonl.gz:1: unreadable" in err


@pytest.mark.parametrize("form", ["jsonl", "csv", "table"])
def test_integers_beyond_64_bits_come_out_exact(capsys, store, form):
    sql = (
        "select properties, properties->>'$.n' AS n, CAST(properties->>'$.n' AS HUGEINT) AS h "
        "from events order by receivedAt"
    )
    _code, out, _err = run(capsys, "events", "query", sql, "--format", form, "--data-dir", str(store))
    assert out.count(str(BIG)) == 3
    if form == "jsonl":
        rows = [jsontext.loads(raw.encode()) for raw in out.splitlines(keepends=True)]
        assert rows[-2] == {"properties": {"path": "/b", "n": BIG}, "n": str(BIG), "h": BIG}


def test_several_data_directories_are_one_store(capsys, store, tmp_path):
    other = tmp_path / "vm-b"
    other.mkdir()
    (other / "events-20261126T050000.000000Z-vm-b-7-000001.jsonl").write_bytes(line("signup", "2026-11-26T06:00:00Z"))
    argv = ("select count(*) AS n from events", "--format", "jsonl", "--data-dir", str(store), str(other), str(store))
    _code, rows, _err = _query(capsys, *argv)
    assert rows == [{"n": 8}]


def test_since_and_until_keep_the_events_received_in_the_window(capsys, store):
    argv = ("select eventType, receivedAt from events order by 2", "--format", "csv", "--data-dir", str(store))
    _code, out, err = run(capsys, "events", "query", *argv, "--since", "2026-11-26T05:00:01Z", "--until", "2026-11-27")
    assert out.splitlines() == [
        "eventType,receivedAt",
        "page_view,2026-11-26T05:00:01.000Z",
        "signup,2026-11-26T05:00:02.000Z",
        "page_view,2026-11-26T05:00:03.000Z",
        "page_view,2026-11-26T23:59:59.999Z",
    ]
    assert "h-1-000002.jsonl.open" not in err  # a file started after --until is not read


def test_columns_are_typed(capsys, store):
    sql = "select typeof(receivedAt) r, typeof(userId) u, typeof(properties) p, typeof(client) c from events limit 1"
    _code, rows, _err = _query(capsys, sql, "--format", "jsonl", "--data-dir", str(store))
    assert rows == [{"r": "TIMESTAMP WITH TIME ZONE", "u": "VARCHAR", "p": "JSON", "c": "JSON"}]


def test_the_table_is_aligned(capsys, store):
    _code, out, _err = run(capsys, "events", "query", "--name", "daily-types", "--data-dir", str(store))
    assert out.splitlines() == [
        "day         eventType  events",
        "2026-11-26  page_view       4",
        "2026-11-26  signup          1",
        "2026-11-27  page_view       1",
        "2026-11-27  signup          1",
        "(4 rows)",
    ]


def test_list_and_show_need_no_data_directory(capsys, environ):
    with pytest.raises(SystemExit) as stop:
        run(capsys, "events", "query", "--list")
    out, _err = capsys.readouterr()
    assert stop.value.code == 0
    for name in ("daily-types", "daily-users", "top-pages", "bots"):
        assert any(row.startswith(name + " ") for row in out.splitlines())
    with pytest.raises(SystemExit) as stop:
        run(capsys, "events", "query", "--show", "top-pages")
    assert (stop.value.code, capsys.readouterr().out.splitlines()[0]) == (
        0,
        "-- The 20 most viewed pages: page_view events by properties.path, with the people who saw each.",
    )


def test_bad_sql_and_unknown_names_exit_2_with_one_line(capsys, store):
    code, out, err = run(capsys, "events", "query", "select from nowhere", "--data-dir", str(store))
    assert (code, out) == (2, "")
    assert "the query failed" in err
    assert "skipped" not in err  # found wrong before the store is read
    code, out, err = run(capsys, "events", "query", "--name", "nope", "--data-dir", str(store))
    assert code == 2 and "no named query 'nope'" in err


def test_other_commands_do_not_import_duckdb():
    assert query.FORMATS == formats.FORMATS
    code = "import sys, collector.cli; collector.cli.build_parser(); print('duckdb' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"


@pytest.fixture
def damaged(store, tmp_path):
    """The store, with bad lines in two more files of a second data directory, one of them .gz."""
    other = tmp_path / "vm-b"
    other.mkdir()
    (other / "events-20261126T060000.000000Z-vm-b-7-000001.jsonl.gz").write_bytes(
        gzip.compress(line("signup", "2026-11-26T06:00:00Z") + b"nil\n" + line("signup", "2026-11-26T06:00:01Z"))
    )
    (other / "events-20261126T070000.000000Z-vm-b-8-000001.jsonl").write_bytes(
        b'{"receivedAt":"yesterday"}\n' + line("page_view", "2026-11-26T07:00:00Z", properties={"path": "/c"})
    )
    return store, other


@TWO_CORES
@pytest.mark.parametrize("name", ["daily-types", "top-pages"])
def test_one_job_or_two_give_the_same_answer_and_the_same_damage_said(capsys, damaged, name):
    argv = ("--name", name, "--format", "csv", "--data-dir", *map(str, damaged))
    one = run(capsys, "events", "query", *argv, "--jobs", "1")
    assert one == run(capsys, "events", "query", *argv, "--jobs", "2")
    code, _out, err = one
    assert code == 1
    assert [said.split(": ", 1)[1].rsplit("/", 1)[-1] for said in err.splitlines()] == [
        "events-20261127T001500.000000Z-h-1-000002.jsonl.open:3: torn line: no newline at the end "
        "(see `collector events verify`)",
        "events-20261126T060000.000000Z-vm-b-7-000001.jsonl.gz:2: not valid JSON: invalid literal, expected 'null': "
        "line 1 column 1 (char 0) (see `collector events verify`)",
        "events-20261126T070000.000000Z-vm-b-8-000001.jsonl:1: receivedAt is not a time: 'yesterday' "
        "(see `collector events verify`)",
    ]


@pytest.mark.parametrize("jobs", ["0", "-1", str((os.cpu_count() or 1) + 1), "two"])
def test_jobs_out_of_bounds_is_refused_in_one_line(capsys, store, jobs):
    with pytest.raises(SystemExit) as stop:
        run(capsys, "events", "query", "select 1", "--jobs", jobs, "--data-dir", str(store))
    assert stop.value.code == 2
    said = capsys.readouterr().err.splitlines()[-1]
    assert said.endswith(f"argument --jobs: '{jobs}': give 1 to {os.cpu_count() or 1} (the cores of this machine)")


def test_as_many_jobs_as_cores_is_accepted(capsys, store):
    code, out, _err = run(
        capsys,
        "events",
        "query",
        "select 1 AS n",
        "--jobs",
        str(os.cpu_count() or 1),
        "--data-dir",
        str(store),
        "--format",
        "csv",
    )
    assert (code, out) == (1, "n\n1\n")  # 1: the open file's torn line


def _group_alive(group: int) -> bool:
    """Whether any process of process group `group` is still running (or not yet reaped)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended while listed
        if int(fields[2]) == group and fields[0] != "Z":
            return True
    return False


def _big_store(tmp_path):
    """Files that take the workers a while; and an empty TMPDIR."""
    data, scratch = tmp_path / "data", tmp_path / "tmp"
    data.mkdir()
    scratch.mkdir()
    for number in range(1, 7):
        lines = b"".join(line("page_view", f"2026-11-26T0{number}:00:00.{n % 1000:03d}Z", n=n) for n in range(50_000))
        (data / f"events-20261126T0{number}0000.000000Z-h-{number}-000001.jsonl").write_bytes(lines)
    return data, scratch


def _started_query(data, scratch):
    """`collector events query` with two workers, once they have begun writing their files."""
    command = [sys.executable, "-m", "collector", "events", "query", "select count(*) from events", "--jobs", "2"]
    query = subprocess.Popen(
        [*command, "--data-dir", str(data)],
        env={**os.environ, "TMPDIR": str(scratch)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    wait_until(lambda: list(scratch.glob("collector-query-*/part-*")), 60, "the workers' first files")
    return query


def _ended(query):
    """The query's stderr once it ended by itself; killed (and the test failed) if it does not within a minute."""
    try:
        return query.communicate(timeout=60)[1]
    finally:
        if query.poll() is None:
            os.killpg(query.pid, signal.SIGKILL)
            query.wait()


@TWO_CORES
def test_ctrl_c_in_a_terminal_leaves_no_worker_and_no_temporary_file(tmp_path):
    data, scratch = _big_store(tmp_path)
    query = _started_query(data, scratch)
    os.killpg(query.pid, signal.SIGINT)  # what Ctrl-C does: every process of the group gets it
    err = _ended(query)
    assert query.returncode != 0
    assert err.count(b"KeyboardInterrupt") <= 1  # the command's own traceback at most, none from a worker
    wait_until(lambda: not _group_alive(query.pid), 30, "the workers to end")
    assert list(scratch.iterdir()) == []


@TWO_CORES
def test_a_worker_killed_ends_the_query_rather_than_hanging_it(tmp_path):
    data, scratch = _big_store(tmp_path)
    query = _started_query(data, scratch)
    workers = [int(stat.parent.name) for stat in Path("/proc").glob("[0-9]*/stat") if _is_worker(stat, query.pid)]
    os.kill(workers[0], signal.SIGKILL)  # as the kernel's OOM killer would
    err = _ended(query)
    assert query.returncode == 2
    assert err.decode().splitlines() == [
        "collector: the query failed: a process reading the files was killed (out of memory?)"
    ]
    wait_until(lambda: not _group_alive(query.pid), 30, "the workers to end")
    assert list(scratch.iterdir()) == []


def _is_worker(stat: Path, parent: int) -> bool:
    """Whether the process of /proc/N/stat is a worker `parent` spawned (not multiprocessing's resource tracker)."""
    try:
        if int(stat.read_text().rsplit(")", 1)[1].split()[1]) != parent:
            return False
        return b"spawn_main" in (stat.parent / "cmdline").read_bytes()
    except OSError:
        return False  # ended while listed


def test_days_and_hours_are_utc_whatever_the_machine_s_time_zone(store, tmp_path):
    # DuckDB's wheel has ICU built in, which follows TZ: 00:15Z on the 27th would be the 26th in New York.
    sql = "select CAST(receivedAt AS DATE) AS day, hour(receivedAt) AS h from events where userId = 'u2'"
    done = subprocess.run(
        [sys.executable, "-m", "collector", "events", "query", sql, "--format", "csv", "--data-dir", str(store)],
        capture_output=True, text=True, env={**os.environ, "TZ": "America/New_York"}, cwd=tmp_path,
    )  # fmt: skip
    assert done.stdout == "day,h\n2026-11-27,0\n", done.stderr


def _memory_limit(capsys, store, *argv):
    sql = "select current_setting('memory_limit') AS m"
    _code, rows, _err = _query(capsys, sql, "--format", "jsonl", "--data-dir", str(store), *argv)
    return rows[0]["m"]


def test_duckdb_takes_a_quarter_of_the_memory_by_default_not_80_percent(capsys, store):
    # DuckDB's own default, 80% of the machine, beside the collector on a small VM: the OOM killer's choice.
    # Over 10 million events it held 12 GB of a 24 GB machine; with a bound it spills to disk instead.
    assert _memory_limit(capsys, store) == _duckdb_size(loading.default_memory_mib())
    assert _memory_limit(capsys, store, "--memory-limit", "300") == "300.0 MiB"


@pytest.mark.parametrize("wrong", ["0", "63", "lots", str(loading.physical_memory_mib() + 1)])
def test_memory_limit_out_of_bounds_is_refused_in_one_line(capsys, store, wrong):
    with pytest.raises(SystemExit) as stopped:
        run(capsys, "events", "query", "select 1", "--memory-limit", wrong, "--data-dir", str(store))
    assert stopped.value.code == 2
    assert f"--memory-limit: {wrong!r}: give 64 to {loading.physical_memory_mib()}" in capsys.readouterr().err


def _duckdb_size(mib: int) -> str:
    """A size as DuckDB's current_setting words it: 300.0 MiB, 5.8 GiB."""
    connection = duckdb.connect()
    connection.execute(f"SET memory_limit = '{mib}MiB'")
    return connection.execute("select current_setting('memory_limit')").fetchone()[0]
