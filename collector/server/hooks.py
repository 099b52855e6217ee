"""gunicorn's server hooks: the writer's life in each worker, and the metrics directory's in the master."""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass
from typing import Any

from prometheus_client import multiprocess

from .. import metricsdir, service


def _writer(worker: Any) -> Any:
    collector = service.of(getattr(worker, "wsgi", None))
    return None if collector is None else collector.writer


@dataclass(frozen=True)
class Hooks:
    """The six hooks; `own_metrics_dir` is the metrics directory this master made (None: the operator's)."""

    own_metrics_dir: str | None

    def as_config(self) -> dict[str, Any]:
        names = ("post_worker_init", "post_request", "worker_exit", "on_starting", "child_exit", "on_exit")
        return {name: getattr(self, name) for name in names}

    def post_worker_init(self, worker: Any) -> None:
        """Make quick exits graceful; repair what dead workers left before the first request."""
        # gthread's quick exit (SIGQUIT, and SIGINT: Ctrl-C or the master's quick
        # shutdown) shuts the thread pool down inside the signal handler. Arriving
        # while the main thread submits a request, it deadlocks on the pool's lock:
        # the worker hangs until the master kills it, its file left unfinished.
        # A graceful exit instead ends the requests in flight and finishes the file.
        signal.signal(signal.SIGQUIT, worker.handle_exit)
        signal.signal(signal.SIGINT, worker.handle_exit)
        writer = _writer(worker)
        if writer is not None:
            writer.start()

    def post_request(self, worker: Any, req: Any, environ: Any, resp: Any) -> None:
        """Restart a worker whose store failed an fsync: its page cache can no longer be trusted.

        The failed request already got its 503; `alive = False` lets the worker
        finish the requests in flight and exit, and the master starts a fresh one.
        """
        writer = _writer(worker)
        if writer is not None and writer.broken and worker.alive:
            worker.log.error("storage failed an fsync: restarting worker %s", worker.pid)
            worker.alive = False

    def worker_exit(self, server: Any, worker: Any) -> None:
        """Finish the worker's open file on a clean stop or restart (SIGTERM, SIGINT, max_requests)."""
        writer = _writer(worker)
        if writer is not None:
            writer.close()

    def on_starting(self, server: Any) -> None:
        """Empty an operator's PROMETHEUS_MULTIPROC_DIR of a previous run's counts (ours is new).

        Not on a USR2 re-exec (`master_pid` set), whose old workers still count
        in that directory.
        """
        if self.own_metrics_dir or server.master_pid:
            return
        metricsdir.empty(os.environ[metricsdir.VARIABLE])

    def child_exit(self, server: Any, worker: Any) -> None:
        """prometheus_client's bookkeeping for a worker that is gone (its live gauges)."""
        multiprocess.mark_process_dead(worker.pid)

    def on_exit(self, server: Any) -> None:
        metricsdir.remove(self.own_metrics_dir)
