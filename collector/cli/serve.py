"""`collector serve`: the service under gunicorn with the packaged configuration, from any directory.

The command becomes gunicorn (`gunicorn -c <packaged config> collector.wsgi:app`,
by exec, in the same process; see collector/server/startup.py's `command`) rather
than running gunicorn's `BaseApplication` inside this one, as `collector
console` does:
- the pid stays the one systemd started, so LISTEN_PID (socket activation)
  and Type=notify's main pid still match it;
- a SIGHUP re-reads the configuration file and a USR2 re-executes gunicorn's
  own command line, as with the checkout's gunicorn.conf.py, with no loader
  of our own to keep in step with gunicorn's (a BaseApplication's reload
  calls its `load_config`, which would have to re-run the file's checks);
- the interpreter is fresh: PROMETHEUS_MULTIPROC_DIR is set before
  prometheus_client is first imported, which this process already did.
"""

from __future__ import annotations

import argparse
import os
from typing import Any, TextIO


def add_commands(commands: Any) -> None:
    """Add `serve` to the subcommands `commands` of the `collector` parser."""
    serve = commands.add_parser(
        "serve",
        help="run the service under gunicorn (settings: the COLLECTOR_* environment)",
        description="Run the collector under gunicorn with its packaged configuration, from any directory. "
        "Settings are the COLLECTOR_* environment variables (check them with `collector settings`). "
        "SIGHUP reloads the workers, SIGTERM stops gracefully.",
    )
    serve.set_defaults(run=run_serve)


def run_serve(args: argparse.Namespace, out: TextIO) -> int:
    from ..server import startup

    argv = startup.command()
    out.flush()
    os.execv(argv[0], argv)  # replaces this process: never returns
