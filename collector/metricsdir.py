"""The metrics directory of prometheus_client's multiprocess mode: made, emptied and removed with the gunicorn master.

Every gunicorn worker counts on its own, and GET /metrics lands on any one of
them; prometheus_client's multiprocess mode adds the workers' counts up. It
needs PROMETHEUS_MULTIPROC_DIR set to an empty directory before it is first
imported, so `prepare` runs in gunicorn's configuration before any module that
imports it, and the workers (forked from the master) inherit the variable.
That is why this module sits at the top of the package and imports nothing
but the standard library (collector/__init__.py imports the app's packages
only inside `create_app`; a unit test holds both to it).

A directory given by the operator is emptied of its `*.db` files when the
master starts, as prometheus_client asks; otherwise a fresh one, named after
the master's pid, is made and removed when gunicorn exits. A SIGHUP re-reads
the configuration in the same master: the directory is kept. A start that
failed before gunicorn could remove its directory (an address in use) leaves
it behind: the next start removes the directories of masters that are gone.
"""

from __future__ import annotations

import glob
import os
import shutil
import tempfile
from collections.abc import MutableMapping

VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
PREFIX = "collector-metrics-"


def prepare(
    environ: MutableMapping[str, str] = os.environ, pid: int | None = None, tmp: str | None = None
) -> str | None:
    """Set PROMETHEUS_MULTIPROC_DIR, made if unset.

    :returns: the directory if it is ours to remove, else None (the operator's).
    """
    pid = os.getpid() if pid is None else pid
    tmp = tempfile.gettempdir() if tmp is None else tmp
    given = environ.get(VARIABLE)
    if given:
        os.makedirs(given, exist_ok=True)  # the operator's may not exist yet
        # Ours from before a SIGHUP (named after this very master), or the operator's.
        return given if os.path.basename(given).startswith(f"{PREFIX}{pid}-") else None
    remove_stale(tmp)
    made = tempfile.mkdtemp(prefix=f"{PREFIX}{pid}-", dir=tmp)
    environ[VARIABLE] = made
    return made


def remove_stale(tmp: str) -> None:
    """Remove the directories that masters now gone left in `tmp`."""
    for stale in glob.glob(os.path.join(tmp, PREFIX + "*-*")):
        pid = os.path.basename(stale)[len(PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and not alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)


def empty(directory: str) -> None:
    """Remove a previous run's counts: prometheus_client adds up every `*.db` file there."""
    for stale in glob.glob(os.path.join(directory, "*.db")):
        os.remove(stale)


def remove(directory: str | None) -> None:
    """Remove our own directory (None: nothing of ours)."""
    if directory:
        shutil.rmtree(directory, ignore_errors=True)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True
