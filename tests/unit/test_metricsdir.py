"""collector/metricsdir.py: prometheus_client's multiprocess directory, made, kept, emptied and removed."""

from __future__ import annotations

import os
import subprocess
import sys

from collector import metricsdir


def test_without_a_directory_one_named_after_the_master_is_made_and_is_ours(tmp_path):
    environ: dict[str, str] = {}
    own = metricsdir.prepare(environ, pid=os.getpid(), tmp=str(tmp_path))
    assert own == environ["PROMETHEUS_MULTIPROC_DIR"]
    assert os.path.isdir(own) and os.path.basename(own).startswith(f"collector-metrics-{os.getpid()}-")


def test_a_sighup_rereading_keeps_our_directory(tmp_path):
    environ: dict[str, str] = {}
    own = metricsdir.prepare(environ, pid=os.getpid(), tmp=str(tmp_path))
    assert metricsdir.prepare(environ, pid=os.getpid(), tmp=str(tmp_path)) == own
    assert os.listdir(tmp_path) == [os.path.basename(own)]


def test_the_operators_directory_is_made_if_missing_and_never_ours(tmp_path):
    given = tmp_path / "metrics"
    assert metricsdir.prepare({"PROMETHEUS_MULTIPROC_DIR": str(given)}, tmp=str(tmp_path)) is None
    assert given.is_dir()


def test_a_usr2_child_does_not_own_its_parents_directory(tmp_path):
    environ: dict[str, str] = {}
    metricsdir.prepare(environ, pid=os.getpid(), tmp=str(tmp_path))
    assert metricsdir.prepare(environ, pid=os.getpid() + 1, tmp=str(tmp_path)) is None


def test_directories_of_masters_that_are_gone_are_removed_and_live_ones_kept(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / f"collector-metrics-{dead.pid}-abc").mkdir()
    (tmp_path / f"collector-metrics-{os.getppid()}-abc").mkdir()
    (tmp_path / "collector-metrics-notapid-abc").mkdir()
    metricsdir.prepare({}, pid=os.getpid(), tmp=str(tmp_path))
    left = sorted(path.name for path in tmp_path.iterdir())
    assert f"collector-metrics-{dead.pid}-abc" not in left
    assert f"collector-metrics-{os.getppid()}-abc" in left and "collector-metrics-notapid-abc" in left


def test_empty_removes_only_the_counts(tmp_path):
    (tmp_path / "counter_1.db").write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("kept")
    metricsdir.empty(str(tmp_path))
    assert [path.name for path in tmp_path.iterdir()] == ["notes.txt"]


def test_remove_removes_ours_and_none_is_nothing(tmp_path):
    (tmp_path / "ours").mkdir()
    metricsdir.remove(str(tmp_path / "ours"))
    metricsdir.remove(None)
    assert not (tmp_path / "ours").exists()


def test_it_imports_before_prometheus_client():
    # PROMETHEUS_MULTIPROC_DIR must be set before prometheus_client is first imported.
    code = "import sys, collector.metricsdir; sys.exit('prometheus_client' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0
