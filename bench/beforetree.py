"""`--before REF`: an earlier commit's collector, run beside this tree's in the same run.

A reshape must not make the benchmark's ratios worse, and two runs on a
shared machine differ by more than a reshape costs: so the earlier commit is
checked out as a git worktree in the run's temp dir, its collector started
from there (its own gunicorn.conf.py and package), and measured in the same
interleaved rounds as this tree's. The worktree is removed when the run ends,
whatever happens.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclasses.dataclass(frozen=True)
class BeforeTree:
    ref: str  # as given on the command line
    commit: str  # its short hash
    path: Path  # the git worktree of it

    @property
    def label(self) -> str:
        """How the report names it: `before d24da50`, or `before v1.2 (d24da50)` for a name."""
        return f"before {self.commit}" if self.commit.startswith(self.ref) else f"before {self.ref} ({self.commit})"

    def environ(self, env: dict[str, str]) -> dict[str, str]:
        """`env` with the tree's package first on the path, ahead of this tree's (installed editable)."""
        return {**env, "PYTHONPATH": os.pathsep.join(filter(None, [str(self.path), env.get("PYTHONPATH")]))}

    def gunicorn_command(self, app: str, args: tuple[str, ...] = ()) -> list[str]:
        """gunicorn with the tree's own gunicorn.conf.py (run from the tree: see `environ`)."""
        return [sys.executable, "-m", "gunicorn", "-c", str(self.path / "gunicorn.conf.py"), *args, app]


def resolve(ref: str, root: Path = ROOT) -> str:
    """The short hash of the commit `ref` names.

    :raises SystemExit: `ref` names no commit of this repository.
    """
    found = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "--verify", "--quiet", "--short", f"{ref}^{{commit}}"],
        capture_output=True, text=True,
    )
    if found.returncode != 0 or not found.stdout.strip():
        raise SystemExit(f"--before {ref!r}: no such commit in {root}")
    return found.stdout.strip()


def checkout(ref: str, tmp: Path, stack: contextlib.ExitStack, root: Path = ROOT) -> BeforeTree:
    """A git worktree of `ref` under `tmp`, removed when `stack` closes."""
    commit = resolve(ref, root)
    path = tmp / f"before-{commit}"
    subprocess.run(["git", "-C", str(root), "worktree", "add", "--detach", "--quiet", str(path), commit], check=True)
    stack.callback(remove, path, root)
    tree = BeforeTree(ref, commit, path)
    _check_it_imports_its_own_package(tree)
    return tree


def remove(path: Path, root: Path = ROOT) -> None:
    """Remove the worktree and git's record of it (a worktree already gone is pruned)."""
    subprocess.run(["git", "-C", str(root), "worktree", "remove", "--force", str(path)], capture_output=True)
    shutil.rmtree(path, ignore_errors=True)
    subprocess.run(["git", "-C", str(root), "worktree", "prune"], capture_output=True)


def _check_it_imports_its_own_package(tree: BeforeTree) -> None:
    """Its servers must run its code, not this tree's.

    Said now, rather than publishing a comparison of one tree with itself.
    """
    found = subprocess.run(
        [sys.executable, "-c", "import collector; print(collector.__file__)"],
        cwd=tree.path, env=tree.environ(dict(os.environ)), capture_output=True, text=True,
    )
    imported = Path(found.stdout.strip() or "?").resolve()
    if found.returncode != 0 or not imported.is_relative_to(tree.path.resolve()):
        raise SystemExit(f"--before {tree.ref}: its tree imports {imported}, not its own collector:\n{found.stderr}")
