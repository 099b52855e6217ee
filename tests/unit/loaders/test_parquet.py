"""`collector export parquet`: every finished file as Parquet, once, read back with DuckDB as a warehouse would."""

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
import orjson
import pytest

from collector.filelock import flocked
from collector.loaders import ledger, parquet
from tests.processes import ROOT, wait_until
from tests.unit.cli.helpers import run

NAME = "events-20261201T{:02d}0000.000000Z-vm-a-42-{:06d}.jsonl"
TYPES = ("page_view", "signup", "purchase")


def write_file(data_dir: Path, index: int, lines: int, compressed: bool = False, suffix: str = "") -> str:
    """A file of `lines` events of three types, received over two UTC days (its last third on the next day)."""
    name = NAME.format(index % 24, index)
    body = b"".join(
        orjson.dumps({
            "eventType": TYPES[n % 3],
            "eventId": f"{index}-{n}",
            "userId": f"user-{n}",
            "receivedAt": f"2026-12-0{1 if n < lines * 2 // 3 else 2}T{index % 24:02d}:00:00.{n % 1000:03d}Z",
            "properties": {"n": n, "plan": "pro"},
        }) + b"\n"
        for n in range(lines)
    )  # fmt: skip
    if compressed:
        (data_dir / (name + ".gz")).write_bytes(gzip.compress(body, compresslevel=1))
    else:
        (data_dir / (name + suffix)).write_bytes(body)
    return name


def export(capsys, data_dir: Path, target: Path, *more: str) -> tuple[int, str, str]:
    return run(capsys, "export", "parquet", "--to", str(target), "--data-dir", str(data_dir), *more)


def read_back(target: Path, sql: str) -> list[tuple]:
    """`sql` over the table `t`: every Parquet file of `target`, with its hive partitions, as DuckDB reads them."""
    with duckdb.connect() as connection:
        connection.execute(
            f"CREATE VIEW t AS SELECT * FROM read_parquet('{target}/**/*.parquet', hive_partitioning = true)"
        )
        return connection.execute(sql).fetchall()


def per_day_and_type(target: Path) -> Counter:
    rows = read_back(target, 'SELECT CAST(dt AS VARCHAR), "eventType", count(*) FROM t GROUP BY ALL')
    return Counter({(day, event_type): count for day, event_type, count in rows})


def cat_counts(capsys, data_dir: Path) -> Counter:
    code, out, _ = run(capsys, "events", "cat", "--data-dir", str(data_dir))
    assert code == 0
    return Counter((event["receivedAt"][:10], event["eventType"]) for event in map(json.loads, out.splitlines()))


def parts(target: Path) -> list[Path]:
    return sorted(target.rglob("*.part"))


def test_every_finished_file_is_exported_by_day_with_cat_s_counts_and_a_second_run_exports_nothing(
    tmp_path, capsys
):
    data, target = tmp_path / "data", tmp_path / "parquet"
    data.mkdir()
    plain = write_file(data, 1, 30)
    compressed = write_file(data, 2, 60, compressed=True)
    write_file(data, 3, 9, suffix=".open")  # being written: not exported
    open_events = Counter({("2026-12-01", event_type): 2 for event_type in TYPES})
    open_events.update({("2026-12-02", event_type): 1 for event_type in TYPES})

    assert export(capsys, data, target) == (0, "exported 2 files, 90 events\n", "")
    assert per_day_and_type(target) == cat_counts(capsys, data) - open_events
    stem = plain.removesuffix(".jsonl")
    assert sorted(str(path.relative_to(target)) for path in target.rglob("*")) == sorted([
        "dt=2026-12-01", f"dt=2026-12-01/{stem}.parquet", f"dt=2026-12-01/{compressed.removesuffix('.jsonl')}.parquet",
        "dt=2026-12-02", f"dt=2026-12-02/{stem}.parquet", f"dt=2026-12-02/{compressed.removesuffix('.jsonl')}.parquet",
    ])  # fmt: skip

    assert export(capsys, data, target) == (0, "exported 0 files, 0 events\n", "")
    # Compressing an exported file (COLLECTOR_COMPRESS) does not make it a new file.
    (data / (plain + ".gz")).write_bytes(gzip.compress((data / plain).read_bytes()))
    (data / plain).unlink()
    assert export(capsys, data, target) == (0, "exported 0 files, 0 events\n", "")
    assert read_back(target, "SELECT count(*), count(DISTINCT \"eventId\") FROM t") == [(90, 90)]


def test_the_ledger_names_each_file_once_with_its_outputs_in_the_data_directory(tmp_path, capsys):
    data, target = tmp_path / "data", tmp_path / "parquet"
    data.mkdir()
    name = write_file(data, 1, 30)
    export(capsys, data, target)
    [path] = (data / ledger.DIRECTORY).glob("*.jsonl")
    [record] = [json.loads(line) for line in path.read_text().splitlines()]
    stem = name.removesuffix(".jsonl")
    assert record["file"] == name and record["target"] == str(target.resolve())
    assert (record["lines"], record["badLines"], record["events"]) == (30, 0, 30)
    assert record["outputs"] == [f"dt=2026-12-01/{stem}.parquet", f"dt=2026-12-02/{stem}.parquet"]


def test_two_targets_are_independent(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    write_file(data, 1, 30)
    assert export(capsys, data, tmp_path / "one")[1] == "exported 1 files, 30 events\n"
    assert export(capsys, data, tmp_path / "two")[1] == "exported 1 files, 30 events\n"
    assert export(capsys, data, tmp_path / "one")[1] == "exported 0 files, 0 events\n"


def test_columns_are_those_of_events_query_and_an_integer_beyond_64_bits_stays_exact(tmp_path, capsys):
    data, target = tmp_path / "data", tmp_path / "parquet"
    data.mkdir()
    (data / NAME.format(1, 1)).write_bytes(
        b'{"eventType":"buy","userId":"u1","receivedAt":"2026-12-01T01:00:00.123Z",'
        b'"timestamp":"2026-11-30T23:59:59Z","properties":{"big":123456789012345678901234567890},'
        b'"client":{"ip":"203.0.113.7"},"clockSkewSeconds":1.5}\n'
    )
    assert export(capsys, data, target)[0] == 0
    [row] = read_back(
        target,
        "SELECT \"eventType\", \"userId\", \"receivedAt\" = TIMESTAMPTZ '2026-12-01 01:00:00.123+00', "
        "\"timestamp\" = TIMESTAMPTZ '2026-11-30 23:59:59+00', properties->>'$.big', \"clockSkewSeconds\", "
        "CAST(dt AS VARCHAR), typeof(properties), typeof(\"receivedAt\") FROM t",
    )
    assert row == ("buy", "u1", True, True, "123456789012345678901234567890", 1.5, "2026-12-01", "JSON",
                   "TIMESTAMP WITH TIME ZONE")  # fmt: skip


def test_days_are_utc_days_whatever_the_machine_s_time_zone(tmp_path, capsys, monkeypatch):
    data, target = tmp_path / "data", tmp_path / "parquet"
    data.mkdir()
    (data / NAME.format(1, 1)).write_bytes(b'{"eventType":"a","receivedAt":"2026-12-01T01:00:00Z"}\n')
    monkeypatch.setenv("TZ", "America/New_York")  # 2026-11-30 20:00 there
    assert export(capsys, data, target)[0] == 0
    assert [path.name for path in target.iterdir()] == ["dt=2026-12-01"]


def test_by_type_adds_a_directory_per_event_type_made_safe_for_a_path(tmp_path, capsys):
    data, target = tmp_path / "data", tmp_path / "parquet"
    data.mkdir()
    types = ["page_view", "a/b", "..", "50% off", "ünï 中", "__HIVE_DEFAULT_PARTITION__"]
    lines = [orjson.dumps({"eventType": t, "receivedAt": "2026-12-01T01:00:00Z"}) + b"\n" for t in types]
    lines.append(b'{"receivedAt":"2026-12-01T01:00:00Z"}\n')  # no eventType
    (data / NAME.format(1, 1)).write_bytes(b"".join(lines))
    assert export(capsys, data, target, "--by-type")[:2] == (0, "exported 1 files, 7 events\n")
    assert sorted(path.name for path in (target / "dt=2026-12-01").iterdir()) == sorted([
        "eventType=page_view", "eventType=a%2Fb", "eventType=..", "eventType=50%25%20off", "eventType=ünï%20中",
        "eventType=%5F_HIVE_DEFAULT_PARTITION__", "eventType=__HIVE_DEFAULT_PARTITION__",
    ])  # fmt: skip
    # Read back as they were sent: DuckDB (like Hive and Spark) decodes the %XX of a partition's value.
    read = read_back(target, 'SELECT "eventType" FROM t')
    assert sorted(read, key=str) == sorted([(t,) for t in types] + [(None,)], key=str)


def test_a_crash_between_the_renames_and_the_ledger_rewrites_the_same_files_next_run(tmp_path, capsys, monkeypatch):
    data, target = tmp_path / "data", tmp_path / "parquet"
    data.mkdir()
    write_file(data, 1, 30)
    write_file(data, 2, 30)

    def crash(*args, **kwargs):
        raise SystemExit("killed between the renames and the ledger")

    monkeypatch.setattr(ledger.Ledger, "append", crash)
    with pytest.raises(SystemExit):
        export(capsys, data, target)
    assert read_back(target, "SELECT count(*) FROM t") == [(30,)]  # the first file's outputs, renamed
    monkeypatch.undo()
    assert export(capsys, data, target)[:2] == (0, "exported 2 files, 60 events\n")
    assert read_back(target, "SELECT count(*), count(DISTINCT \"eventId\") FROM t") == [(60, 60)]
    assert parts(target) == []


def test_a_second_exporter_at_the_same_time_does_nothing_and_says_so(tmp_path, capsys):
    data, target = tmp_path / "data", tmp_path / "parquet"
    data.mkdir()
    write_file(data, 1, 30)
    books = ledger.Ledger(data, target)
    books.directory.mkdir()
    with flocked(books.lock_path):
        code, out, err = export(capsys, data, target)
    assert (code, out) == (0, "") and "another exporter" in err
    assert not target.exists() or list(target.iterdir()) == []


def test_bad_lines_are_left_out_and_named_and_an_unreadable_file_is_not_exported_until_it_can_be_read(
    tmp_path, capsys
):
    data, target = tmp_path / "data", tmp_path / "parquet"
    data.mkdir()
    damaged = NAME.format(1, 1)
    (data / damaged).write_bytes(b'{"eventType":"a","receivedAt":"2026-12-01T01:00:00Z"}\nnot json\n{"torn":')
    truncated = write_file(data, 2, 1000, compressed=True)
    whole = (data / (truncated + ".gz")).read_bytes()
    (data / (truncated + ".gz")).write_bytes(whole[: len(whole) // 2])
    good = write_file(data, 3, 30)
    refused = NAME.format(4, 4)  # a receivedAt the store's reader takes, DuckDB's TIMESTAMPTZ not
    (data / refused).write_bytes(b'{"eventType":"a","receivedAt":"20261201T040000Z"}\n')

    code, out, err = export(capsys, data, target)
    assert (code, out) == (1, "exported 2 files, 31 events\n")
    assert f"collector: {refused}: refused by DuckDB, not exported: Conversion Error" in err
    assert f"collector: {damaged}:2: " in err and f"collector: {damaged}:3: torn line" in err
    assert f"collector: {truncated}.gz:" in err and "truncated" in err
    assert {record["file"]: record["badLines"] for record in ledger.Ledger(data, target).records()} == {
        damaged: 2, good: 0
    }
    assert read_back(target, "SELECT count(*) FROM t") == [(31,)]

    assert export(capsys, data, target)[:2] == (1, "exported 0 files, 0 events\n")  # tried again, still unreadable
    (data / refused).unlink()
    (data / (truncated + ".gz")).write_bytes(whole)
    assert export(capsys, data, target) == (0, "exported 1 files, 1000 events\n", "")


def exporter(data_dir: Path, target: Path) -> subprocess.Popen:
    # Its scratch directory in the test's, not /tmp: a killed exporter cannot remove its own.
    scratch = data_dir.parent / "scratch"
    scratch.mkdir(exist_ok=True)
    return subprocess.Popen(
        [sys.executable, "-m", "collector", "export", "parquet", "--to", str(target), "--data-dir", str(data_dir)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "TMPDIR": str(scratch)},
    )  # fmt: skip


def test_an_exporter_killed_mid_export_leaves_every_event_exactly_once_after_the_next_run(tmp_path, capsys):
    data, target = tmp_path / "data", tmp_path / "parquet"
    data.mkdir()
    files, lines = 24, 6000
    for index in range(files):
        write_file(data, index, lines, compressed=index % 2 == 0)
    process = exporter(data, target)
    try:
        wait_until(lambda: parts(target) or list(target.rglob("*.parquet")), 120, "a first output", interval=0.01)
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=120) == -signal.SIGKILL  # killed mid-export, not after it finished
    finally:
        process.kill()
        process.communicate()
    done = len(ledger.Ledger(data, target).records())
    assert done < files

    code, out, err = export(capsys, data, target)
    assert (code, err) == (0, "") and out == f"exported {files - done} files, {(files - done) * lines} events\n"
    assert read_back(target, "SELECT count(*), count(DISTINCT \"eventId\") FROM t") == [(files * lines,) * 2]
    assert parts(target) == []  # the killed run's .part was written again and renamed
    assert len(ledger.Ledger(data, target).records()) == files


def test_two_exporters_started_together_export_each_file_once_between_them(tmp_path):
    data, target = tmp_path / "data", tmp_path / "parquet"
    data.mkdir()
    files, lines = 12, 2000
    for index in range(files):
        write_file(data, index, lines)
    processes = [exporter(data, target), exporter(data, target)]
    outputs = [process.communicate(timeout=300) for process in processes]
    assert [process.returncode for process in processes] == [0, 0]
    # Whichever came second found the lock taken, or came after the first was done and found nothing to do.
    exported = sorted(int(out.split()[1]) if out else 0 for out, _ in outputs)
    assert exported == [0, files]
    assert all(b"another exporter" in err for out, err in outputs if out == b"")
    assert read_back(target, 'SELECT count(*), count(DISTINCT "eventId") FROM t') == [(files * lines,) * 2]


KEPT = b'{"eventType":"a","userId":"kept","receivedAt":"2026-12-01T01:00:00Z"}\n'


def kept_and_erased(tmp_path: Path, erased_type: str, erased_at: str) -> tuple[Path, Path, str]:
    """A data directory of one file: an event of the user `kept`, then one of `erased` (of that type, received
    then); with the target directory and the file's name."""
    data = tmp_path / "data"
    data.mkdir()
    name = NAME.format(1, 1)
    erased = {"eventType": erased_type, "userId": "erased", "receivedAt": erased_at}
    (data / name).write_bytes(KEPT + json.dumps(erased, separators=(",", ":")).encode() + b"\n")
    return data, tmp_path / "parquet", name


def test_again_after_an_erasure_removes_a_file_s_parquet_files_and_exports_it_anew(tmp_path, capsys):
    data, target, name = kept_and_erased(tmp_path, "b", "2026-12-02T01:00:00Z")
    other = write_file(data, 2, 30)
    assert export(capsys, data, target, "--by-type")[:2] == (0, "exported 2 files, 32 events\n")
    # What `collector events forget --user-id erased` leaves: the file rewritten under its name, then compressed.
    (data / (name + ".gz")).write_bytes(
        gzip.compress(KEPT)
    )
    (data / name).unlink()
    assert export(capsys, data, target, "--by-type")[:2] == (0, "exported 0 files, 0 events\n")
    assert read_back(target, "SELECT count(*) FROM t WHERE \"userId\" = 'erased'") == [(1,)]

    assert export(capsys, data, target, "--by-type", "--again", name + ".gz") == (
        0, "exported 1 files, 1 events\n", ""
    )  # fmt: skip
    assert read_back(target, "SELECT count(*) FROM t WHERE \"userId\" = 'erased'") == [(0,)]
    assert not (target / "dt=2026-12-02" / "eventType=b").exists() or not any(
        (target / "dt=2026-12-02" / "eventType=b").iterdir()
    )
    assert read_back(target, "SELECT count(*) FROM t") == [(31,)]
    assert set(ledger.Ledger(data, target).exported()) == {name, other}
    # Said once, done once: a name given again later with nothing rewritten exports the same events, in place.
    assert export(capsys, data, target, "--by-type", "--again", name)[:2] == (0, "exported 1 files, 1 events\n")
    assert read_back(target, "SELECT count(*) FROM t") == [(31,)]


def test_the_export_needs_no_duckdb_extension_from_the_network(tmp_path):
    # Parquet, JSON and ICU are built into the duckdb wheel; nothing is installed under ~/.duckdb (the VMs have no
    # internet): with an empty home the export works, and leaves that home empty.
    data, target, home = tmp_path / "data", tmp_path / "parquet", tmp_path / "home"
    data.mkdir()
    home.mkdir()
    write_file(data, 1, 30)
    result = subprocess.run(
        [sys.executable, "-m", "collector", "export", "parquet", "--to", str(target), "--data-dir", str(data)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, env={**os.environ, "HOME": str(home)},
    )  # fmt: skip
    assert (result.returncode, result.stdout, result.stderr) == (0, "exported 1 files, 30 events\n", "")
    assert list(home.iterdir()) == []


def test_an_erasure_logged_since_the_last_run_is_applied_to_the_parquet_files_once(tmp_path, capsys):
    data, target, name = kept_and_erased(tmp_path, "b", "2026-12-02T01:00:00Z")
    alone = NAME.format(3, 3)  # the person's events only: the erasure removes the file
    (data / alone).write_bytes(b'{"eventType":"a","userId":"erased","receivedAt":"2026-12-01T03:00:00Z"}\n')
    other = write_file(data, 2, 30)
    assert export(capsys, data, target, "--by-type")[:2] == (0, "exported 3 files, 33 events\n")

    code, _, err = run(capsys, "events", "forget", "--user-id", "erased", "--data-dir", str(data))
    assert code == 0, err
    assert export(capsys, data, target, "--by-type") == (
        0, "exported 1 files, 1 events; applied 1 erasures (erasures.log)\n", ""
    )  # fmt: skip
    assert read_back(target, "SELECT count(*) FROM t WHERE \"userId\" = 'erased'") == [(0,)]
    assert read_back(target, "SELECT count(*) FROM t") == [(31,)]
    assert list(target.rglob(f"{alone.removesuffix('.jsonl')}.parquet")) == []
    assert set(ledger.Ledger(data, target).exported()) == {name, other}

    # Applied once: the next runs export nothing, even once the rewritten file is compressed.
    assert export(capsys, data, target, "--by-type") == (0, "exported 0 files, 0 events\n", "")
    (data / (name + ".gz")).write_bytes(gzip.compress((data / name).read_bytes()))
    (data / name).unlink()
    assert export(capsys, data, target, "--by-type") == (0, "exported 0 files, 0 events\n", "")
    # A new target exports the store as it is now, the erasure already in it: nothing to take out there.
    code, out, _ = export(capsys, data, tmp_path / "fresh")
    assert (code, out) == (0, "exported 2 files, 31 events; applied 1 erasures (erasures.log)\n")
    assert [record["files"] for record in ledger.Ledger(data, tmp_path / "fresh").records() if "erasure" in record] == [
        []
    ]


def test_an_export_killed_while_applying_an_erasure_applies_it_on_the_next_run(tmp_path, capsys, monkeypatch):
    data, target, _name = kept_and_erased(tmp_path, "a", "2026-12-01T01:00:01Z")
    export(capsys, data, target)
    assert run(capsys, "events", "forget", "--user-id", "erased", "--data-dir", str(data))[0] == 0
    append = ledger.Ledger.append

    def crash_at_the_erasure_record(self, record):
        if "erasure" in record:
            raise SystemExit("killed before the erasure's record")
        append(self, record)

    monkeypatch.setattr(ledger.Ledger, "append", crash_at_the_erasure_record)
    with pytest.raises(SystemExit):
        export(capsys, data, target)
    monkeypatch.undo()
    assert export(capsys, data, target)[:2] == (0, "exported 1 files, 1 events; applied 1 erasures (erasures.log)\n")
    assert read_back(target, 'SELECT "userId" FROM t') == [("kept",)]
    assert export(capsys, data, target)[:2] == (0, "exported 0 files, 0 events\n")


def test_an_erasure_replaces_a_file_s_parquet_files_in_place_a_reader_never_sees_it_missing(
    tmp_path, capsys, monkeypatch
):
    data, target, _name = kept_and_erased(tmp_path, "a", "2026-12-02T01:00:00Z")
    export(capsys, data, target)
    before = sorted(path.relative_to(target) for path in target.rglob("*.parquet"))
    assert len(before) == 2  # a Parquet file for each day
    assert run(capsys, "events", "forget", "--user-id", "erased", "--data-dir", str(data))[0] == 0

    seen_while_writing = []
    write = parquet._write

    def write_watched(*args, **kwargs):
        seen_while_writing.append(sorted(path.relative_to(target) for path in target.rglob("*.parquet")))
        return write(*args, **kwargs)

    monkeypatch.setattr(parquet, "_write", write_watched)
    assert export(capsys, data, target)[:2] == (0, "exported 1 files, 1 events; applied 1 erasures (erasures.log)\n")
    # The old files stayed readable until the new ones were renamed over them; only the day left empty went.
    assert seen_while_writing == [before]
    assert sorted(path.relative_to(target) for path in target.rglob("*.parquet")) == before[:1]
    assert read_back(target, 'SELECT "userId" FROM t') == [("kept",)]


def test_an_erasure_whose_file_cannot_be_exported_again_still_takes_the_old_events_out(tmp_path, capsys):
    data, target, name = kept_and_erased(tmp_path, "a", "2026-12-01T01:00:01Z")
    export(capsys, data, target)
    assert run(capsys, "events", "forget", "--user-id", "erased", "--data-dir", str(data))[0] == 0
    # Rewritten, then damaged (a disk error, a hand edit): the new copy cannot be made; the old must not stay.
    (data / name).write_bytes(b'{"eventType":"a","userId":"kept","receivedAt":"20261201T010000Z"}\n')
    code, _out, err = export(capsys, data, target)
    assert code == 1 and "refused by DuckDB" in err
    assert list(target.rglob("*.parquet")) == []
