"""bench/beforetree.py: --before REF's git worktree, its servers' command, and its removal (no load)."""

from __future__ import annotations

import contextlib
import importlib
import subprocess
from pathlib import Path

import pytest

from tests.processes import ROOT


@pytest.fixture
def beforetree(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    return importlib.import_module("beforetree")


def worktrees() -> str:
    return subprocess.run(["git", "-C", str(ROOT), "worktree", "list", "--porcelain"],
                          capture_output=True, text=True, check=True).stdout


def test_a_ref_that_names_no_commit_stops_the_run_saying_so(beforetree):
    with pytest.raises(SystemExit, match="--before 'no-such-ref-4711': no such commit"):
        beforetree.resolve("no-such-ref-4711")


def test_the_tree_is_a_worktree_of_the_commit_and_is_removed_at_the_end(beforetree, tmp_path):
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True, check=True).stdout.strip()
    with contextlib.ExitStack() as stack:
        tree = beforetree.checkout("HEAD", tmp_path, stack)
        assert tree.commit == head and tree.label == f"before HEAD ({head})"
        assert (tree.path / "collector" / "__init__.py").is_file()
        assert str(tree.path) in worktrees()
    assert not tree.path.exists()
    assert str(tree.path) not in worktrees()


def test_its_servers_run_its_own_gunicorn_config_and_package(beforetree):
    tree = beforetree.BeforeTree("d24da50", "d24da50", Path("/tmp/before-d24da50"))
    assert tree.label == "before d24da50"
    command = tree.gunicorn_command("app:app", ("--workers", "2"))
    assert command[-5:] == ["-c", "/tmp/before-d24da50/gunicorn.conf.py", "--workers", "2", "app:app"]
    assert tree.environ({"PYTHONPATH": "/x", "A": "1"}) == {"PYTHONPATH": "/tmp/before-d24da50:/x", "A": "1"}
