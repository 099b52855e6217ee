"""gunicorn's configuration for the collector, as functions: its variables, the start-up checks, the server hooks.

gunicorn reads a configuration *file*; the collector's are two thin ones that
call `configure()`: collector/server/gunicorn_config.py in the package (what
`collector serve` runs) and gunicorn.conf.py at the top of a checkout.

Worker model, and why:
- Rate-limit counters must be shared by the workers, or each would count on its
  own and a client would get N times its limit. With `sqlite://` (the default:
  a file in the data directory) or `memcached://` they are, so the service runs
  one worker process per core (COLLECTOR_WORKERS=auto) and uses every core;
  memcached also shares them between VMs.
- `memory://` counters live inside one process: then the service runs ONE
  worker process with threads (`gthread`), and asking for more stops start-up.
- `gthread` also keeps HTTP connections alive (nginx upstream keepalive),
  which the `sync` worker cannot.

Listening, and why one socket: the workers share one listening socket, made
by the master or passed by systemd (deploy/collector.socket, which stays open
while the service restarts). A worker that stops (max_requests, a SIGHUP
reload, a restart) stops accepting, and what waits in the shared queue goes to
the other workers or the next ones: nothing is reset. A socket per worker
(SO_REUSEPORT, before) reset the queue of every worker that stopped; draining
that queue before the close leaves a race at the close itself, and
net.ipv4.tcp_migrate_req=1 needs root and changes the whole host; and gunicorn
ignores systemd's socket with SO_REUSEPORT. bench/RESULTS-reloads.md measures
the four. What SO_REUSEPORT was for, every core busy under a burst of
keep-alive connections, comes from `worker_connections` (see
`worker_connections` below).
"""

from __future__ import annotations

import os
import sys
import sysconfig
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any, NoReturn

from .. import datadir, metricsdir
from ..ops import access_log
from ..request import privacy
from ..settings import Settings, SettingsError, access, load_settings, pinned, places, planfile, suppressedfile
from .hooks import Hooks

# The packaged configuration file that `collector serve` hands gunicorn.
CONFIG_FILE = Path(__file__).with_name("gunicorn_config.py")
APP = "collector.wsgi:app"
WORKER_CLASS = "gthread"
# Slow clients are nginx's job; a request that takes this long is stuck.
TIMEOUT = 30
# deploy/collector.service's TimeoutStopSec must outwait it (tests/system/test_deploy.py).
GRACEFUL_TIMEOUT = 30
# Set to the master's pid once the configuration has been read: a second
# reading in the same process is a SIGHUP reload.
_STARTED = "_COLLECTOR_GUNICORN_MASTER"
# The settings the master last read whole: what a refused reload keeps.
_in_effect: Settings | None = None


def command(scripts: str | None = None) -> list[str]:
    """The command `collector serve` becomes: gunicorn's own, with the packaged configuration.

    gunicorn's console script, installed beside `collector`, rather than
    `python -m gunicorn`: a USR2 upgrade re-executes this Python with
    `sys.argv`, and `python .../gunicorn/__main__.py` puts gunicorn's package
    directory first on sys.path, where its `http` package hides the standard
    library's (werkzeug's import fails and the new master never starts).
    Where that script is missing, `python -m gunicorn` still serves.
    """
    scripts = sysconfig.get_path("scripts") if scripts is None else scripts
    script = os.path.join(scripts, "gunicorn")
    gunicorn = [script] if os.access(script, os.X_OK) else [sys.executable, "-m", "gunicorn"]
    return [*gunicorn, "-c", str(CONFIG_FILE), APP]


def configure(own_metrics_dir: str | None, environ: MutableMapping[str, str] = os.environ) -> dict[str, Any]:
    """gunicorn's variables and hooks, once the settings are read and checked; exits with one line if not."""
    settings = start(own_metrics_dir, environ)
    return {**variables(settings), **Hooks(own_metrics_dir).as_config()}


def start(own_metrics_dir: str | None, environ: MutableMapping[str, str] = os.environ) -> Settings:
    """Read the settings once and do what the master must do before it forks: pin, secret, bind check.

    On a SIGHUP (a second reading in the same master), a bad setting refuses the reload, not the service.
    """
    global _in_effect
    in_effect = _in_effect if environ.get(_STARTED) == str(os.getpid()) else None
    # The tracking plan file, the suppressed ids file and the write keys file are read here, in the master,
    # at start and on each SIGHUP, and pinned for the workers it forks (collector/settings/pinned.py): set
    # aside those pinned, to read the files anew.
    held = pinned.unpin()
    try:
        # Refuses, in one line, every value gunicorn or a worker would fail on
        # (the bind address, the data directory, several workers with memory://, a bad plan).
        settings = load_settings(environ)
    except SettingsError as error:
        if in_effect is not None:
            return _refuse_reload(str(error), held, in_effect)
        refuse(str(error), own_metrics_dir)
    pinned.pin(planfile.VARIABLE, settings.tracking_plan)
    pinned.pin(suppressedfile.VARIABLE, settings.suppressed_ids_file)
    pinned.pin(access.KEYS_FILE_VARIABLE, settings.api_keys_file)
    _in_effect = settings
    # The data directory is made here, in the master, once: the workers it forks
    # (a recycled one too) inherit which directory it is, and refuse to write into
    # another one put in its place, or to re-create it (collector/datadir.py).
    try:
        datadir.pin(settings.data_dir)
    except OSError as error:
        refuse(f"COLLECTOR_DATA_DIR: {error}", own_metrics_dir)
    # COLLECTOR_CLIENT_IP=hash: the secret of the daily salts, made in the master
    # and inherited by every worker it forks, so that all of them hash a client
    # alike; in memory only (see collector/request/privacy.py).
    privacy.make_process_secret()
    problem = bind_problem(settings.bind, environ)
    if problem:
        refuse(f"COLLECTOR_BIND: {problem}", own_metrics_dir)
    environ[_STARTED] = str(os.getpid())
    return settings


def bind_problem(bind: str, environ: Mapping[str, str]) -> str | None:
    """Why the service cannot listen at `bind`: a one-line refusal instead of gunicorn's five retries.

    Checked at the first start only: not when a SIGHUP re-reads the
    configuration in the same master, nor in a USR2 re-exec (GUNICORN_PID
    set), whose listener is inherited. When systemd passes its socket, that
    socket is the listener, and its address must be COLLECTOR_BIND.
    """
    if environ.get(_STARTED) == str(os.getpid()) or "GUNICORN_PID" in environ:
        return None
    return places.activated_socket_mismatch(bind) if places.socket_activated(environ) else places.listener_on(bind)


def _refuse_reload(
    message: str, held: Mapping[str, Any], in_effect: Settings
) -> Settings:
    """A SIGHUP that read a bad setting (a plan file broken mid-edit): keep serving as before, and say why.

    Exiting here (as a bad setting at the first start does) would stop the
    master, and with it every worker. gunicorn still replaces the workers
    after a SIGHUP; the new ones are forked with the plan and the suppressed
    ids pinned before, so the service keeps both until a SIGHUP reads good files.
    """
    pinned.restore(held)
    print(f"collector: reload refused, the service keeps its configuration: {message}", file=sys.stderr, flush=True)
    return in_effect


def refuse(message: str, own_metrics_dir: str | None) -> NoReturn:
    metricsdir.remove(own_metrics_dir)
    sys.exit(f"collector: {message}")


def variables(settings: Settings) -> dict[str, Any]:
    """gunicorn's settings from the collector's."""
    return {
        "bind": settings.bind,
        "worker_class": WORKER_CLASS,
        # One process per core: a worker is bound to one core by the GIL, and the
        # benchmark (bench/RESULTS.md) measured more processes, or more threads,
        # as no faster and with a worse p99. Threads overlap the waits.
        "workers": settings.worker_processes(),
        "threads": settings.threads,
        # One listening socket shared by every worker: see the module's docstring.
        "reuse_port": False,
        "worker_connections": worker_connections(settings),
        "timeout": TIMEOUT,
        "graceful_timeout": GRACEFUL_TIMEOUT,
        "keepalive": 5,
        # A line per request (COLLECTOR_ACCESS_LOG=off behind nginx, which logs them
        # already), as JSON or text (COLLECTOR_LOG_FORMAT).
        "accesslog": "-" if settings.access_log == "on" else None,
        # ... with the settings read here, not read again by the logger.
        "logger_class": access_log.logger_class(settings),
        "errorlog": "-",
        # gunicorn's control socket (one fixed path per user) would be shared by
        # every instance on the host; the collector does not use it.
        "control_socket_disable": True,
    }


def worker_connections(settings: Settings) -> int:
    """gunicorn's worker_connections: how many connections a worker holds before it leaves new ones to the others.

    The workers share one listening socket, and whichever wakes first
    accepts: unbounded, one worker could take a whole burst of keep-alive
    connections (wrk's, nginx's upstream pool) and leave the other cores
    idle for as long as they live. Twice the threads: a request in flight
    per thread, plus as many idle keep-alive connections (gthread answers
    "Connection: close" once that many are idle). Idle ones alone stay
    under the bound (answers ending together add at most threads - 1 to
    them), so a worker stops accepting only while it has requests in
    flight, and a new connection never waits behind idle ones. One
    worker: gunicorn's default, 1000.
    """
    if settings.worker_processes() < 2:
        return 1000
    return 2 * settings.threads
