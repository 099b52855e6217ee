"""gunicorn settings for the collector: `gunicorn -c gunicorn.conf.py app:app`.

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
The numbers are COLLECTOR_WORKERS and COLLECTOR_THREADS, like every other
setting; see the README's configuration table.

Listening, and why one socket: the workers share one listening socket, made
by the master or passed by systemd (deploy/collector.socket, which stays open
while the service restarts). A worker that stops (max_requests, a SIGHUP
reload, a restart) stops accepting, and what waits in the shared queue goes to
the other workers or the next ones: nothing is reset. A socket per worker
(SO_REUSEPORT, before) reset the queue of every worker that stopped; draining
that queue before the close leaves a race at the close itself, and
net.ipv4.tcp_migrate_req=1 needs root and changes the whole host, so neither
the Quick start nor the systemd unit's user can count on it; and gunicorn
ignores systemd's socket with SO_REUSEPORT. bench/RESULTS-reloads.md measures
the four. What SO_REUSEPORT was for, every core busy under a burst of
keep-alive connections, comes from `worker_connections` (twice the threads;
see Settings.worker_connections): gthread stops accepting at that many
connections and the other workers take the rest. It counts idle keep-alive
connections too, which could stall a new connection behind them; but gthread
keeps at most `threads` idle ones (it answers "Connection: close" past that),
so idle ones alone stay under the bound and a worker stops accepting only
while it has requests in flight. nginx's upstream pool (`keepalive 32` per
nginx worker) is simply trimmed to that many per gunicorn worker.

Metrics: every worker counts on its own, and GET /metrics lands on any one of
them. prometheus_client's multiprocess mode adds the workers' counts up; it
needs PROMETHEUS_MULTIPROC_DIR set to an empty directory before it is first
imported, so it is set here, before the collector package is imported, and
workers (forked from this process) inherit it. A directory given by the
operator is emptied of its `*.db` files when the master starts (`on_starting`),
as prometheus_client asks; otherwise a fresh one, named after the master's
pid, is made and removed when gunicorn exits. A SIGHUP re-reads this file in
the same master: the directory is kept. A start that fails before gunicorn can
run `on_exit` (an address in use) leaves its directory behind: the next start
removes the directories of masters that are gone.
"""

import glob
import os
import shutil
import signal
import sys
import tempfile

_METRICS_PREFIX = "collector-metrics-"
# Set to the master's pid once this file has been read: a second reading in the
# same process is a SIGHUP reload.
_STARTED = "_COLLECTOR_GUNICORN_MASTER"


def _metrics_dir():
    """PROMETHEUS_MULTIPROC_DIR, made if unset; the directory if it is ours to remove, else None."""
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if given:
        os.makedirs(given, exist_ok=True)  # the operator's may not exist yet
        # Ours from before a SIGHUP (named after this very master), or the operator's.
        return given if os.path.basename(given).startswith(f"{_METRICS_PREFIX}{os.getpid()}-") else None
    for stale in glob.glob(os.path.join(tempfile.gettempdir(), _METRICS_PREFIX + "*-*")):
        pid = os.path.basename(stale)[len(_METRICS_PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)
    made = tempfile.mkdtemp(prefix=f"{_METRICS_PREFIX}{os.getpid()}-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = made
    return made


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


_own_metrics_dir = _metrics_dir()

from collector import service  # noqa: E402  (after the variable)
from collector.ingest import privacy  # noqa: E402
from collector.settings import SettingsError, load_settings, places  # noqa: E402
from prometheus_client import multiprocess  # noqa: E402


def _refuse(message):
    if _own_metrics_dir:
        shutil.rmtree(_own_metrics_dir, ignore_errors=True)
    sys.exit(f"collector: {message}")


try:
    # Refuses, in one line, every value gunicorn or a worker would fail on
    # (the bind address, the data directory, several workers with memory://).
    _settings = load_settings()
except SettingsError as error:
    _refuse(error)

# COLLECTOR_CLIENT_IP=hash: the secret of the daily salts, made here in the
# master and inherited by every worker it forks, so that all of them hash a
# client alike; in memory only, never in the environment or on disk (see
# collector/ingest/privacy.py).
privacy.make_process_secret()

bind = _settings.bind
worker_class = "gthread"
# One process per core: a worker is bound to one core by the GIL, and the
# benchmark (bench/RESULTS.md) measured more processes than cores, or more
# threads, as no faster and with a worse p99. Threads overlap the waits
# (memcached, fsync), which a few cover.
workers = _settings.worker_processes()
threads = _settings.threads
# One listening socket, made by the master (or passed by systemd) and shared
# by every worker: a worker that stops (max_requests, a SIGHUP reload, a
# restart) leaves what waits in it to the others, and nothing is reset. See
# the docstring, "Listening", for why not a socket per worker.
reuse_port = False
worker_connections = _settings.worker_connections()
# Nothing else may listen there: a one-line refusal instead of gunicorn's five
# retries. Checked at the first start only: not when a SIGHUP re-reads this
# file in the same master, nor in a USR2 re-exec (GUNICORN_PID set), nor when
# systemd passes its socket (that socket is the listener), whose address must
# then be COLLECTOR_BIND.
if os.environ.get(_STARTED) != str(os.getpid()) and "GUNICORN_PID" not in os.environ:
    _problem = places.activated_socket_mismatch(bind) if places.socket_activated() else places.listener_on(bind)
    if _problem:
        _refuse(f"COLLECTOR_BIND: {_problem}")
os.environ[_STARTED] = str(os.getpid())
# Slow clients are nginx's job; a request that takes this long is stuck.
timeout = 30
graceful_timeout = 30
keepalive = 5
# A line per request (COLLECTOR_ACCESS_LOG=off behind nginx, which logs them
# already), as JSON or text (COLLECTOR_LOG_FORMAT), client-sent text as it was
# sent (UTF-8) with control characters escaped.
accesslog = "-" if _settings.access_log == "on" else None
logger_class = (
    "collector.ops.access_log.JSONLogger" if _settings.log_format == "json" else "collector.ops.access_log.AccessLogger"
)
errorlog = "-"
# gunicorn's control socket (one fixed path per user) would be shared by every
# instance on the host; the collector does not use it.
control_socket_disable = True


def _writer(worker):
    collector = service.of(getattr(worker, "wsgi", None))
    return None if collector is None else collector.writer


def post_worker_init(worker):
    """Make quick exits graceful; repair what dead workers left before the first request."""
    # gthread's quick exit (SIGQUIT, and SIGINT: Ctrl-C or the master's quick
    # shutdown) shuts the thread pool down inside the signal handler. Arriving
    # while the main thread submits a request, it deadlocks on the pool's lock:
    # the worker hangs until the master kills it, its file left unfinished.
    # A graceful exit instead ends the requests in flight and finishes the file.
    if worker_class == "gthread":
        signal.signal(signal.SIGQUIT, worker.handle_exit)
        signal.signal(signal.SIGINT, worker.handle_exit)
    writer = _writer(worker)
    if writer is not None:
        writer.start()


def post_request(worker, req, environ, resp):
    """Restart a worker whose store failed an fsync: its page cache can no longer be trusted.

    The failed request already got its 503; `alive = False` lets the worker
    finish the requests in flight and exit, and the master starts a fresh one.
    """
    writer = _writer(worker)
    if writer is not None and writer.broken and worker.alive:
        worker.log.error("storage failed an fsync: restarting worker %s", worker.pid)
        worker.alive = False


def worker_exit(server, worker):
    """Finish the worker's open file on a clean stop or restart (SIGTERM, SIGINT, max_requests)."""
    writer = _writer(worker)
    if writer is not None:
        writer.close()


def on_starting(server):
    """Empty an operator's PROMETHEUS_MULTIPROC_DIR of a previous run's counts (ours is new).

    prometheus_client adds up every `*.db` file there: a previous run's would
    be counted again. Not on a USR2 re-exec (`master_pid` set), whose old
    workers still count in that directory.
    """
    if _own_metrics_dir or server.master_pid:
        return
    for stale in glob.glob(os.path.join(os.environ["PROMETHEUS_MULTIPROC_DIR"], "*.db")):
        os.remove(stale)


def child_exit(server, worker):
    """prometheus_client's bookkeeping for a worker that is gone (its live gauges)."""
    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _own_metrics_dir:
        shutil.rmtree(_own_metrics_dir, ignore_errors=True)
