"""`collector console`: the console under gunicorn, one process, bound to loopback unless it has a key.

One worker process (the index lives in its memory), a few threads (a browser
polls, a script may ask), gunicorn's gthread worker: a production server, as
the collector's, not Flask's development server. gunicorn is used through its
documented custom-application API (`BaseApplication`).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication

from ..settings import Settings, places
from .rejections import Rejections, metrics_url

DEFAULT_BIND = "127.0.0.1:8700"
THREADS = 4


def bind_problem(bind: str, key: str) -> str | None:
    """Why the console may not start on `bind`: a bad address, or one off loopback without a key."""
    try:
        host, _ = places.host_port(bind, lowest_port=1)
    except ValueError:
        return f"--bind {bind!r} is not valid: expected HOST:PORT or [IPv6]:PORT with a port from 1 to 65535"
    if not key and not is_loopback(host):
        return (
            f"--bind {bind} is reachable from other machines: set COLLECTOR_CONSOLE_KEY (at least 16 characters), "
            "or bind to loopback and use an SSH tunnel"
        )
    return None


def replay_problem(allow_replay: bool, key: str, directories: int = 1) -> str | None:
    """Why the console may not offer replay: it writes, so only a console that asks for its key may, and into
    one data directory, the one it reads."""
    from .app import REPLAY_INTO_ONE, REPLAY_NEEDS_KEY

    if not allow_replay:
        return None
    if not key:
        return REPLAY_NEEDS_KEY
    return REPLAY_INTO_ONE if directories != 1 else None


def is_loopback(host: str) -> bool:
    try:
        addresses = {str(info[4][0]) for info in socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)}
    except (OSError, UnicodeError):
        return False
    return bool(addresses) and all(ipaddress.ip_address(address.split("%")[0]).is_loopback for address in addresses)


class ConsoleServer(BaseApplication):
    """gunicorn serving the console app, built in the worker (its index and sampler live there)."""

    def __init__(
        self,
        settings: Settings,
        bind: str,
        metrics: str | None = None,
        data_dirs: Sequence[Path] = (),
        allow_replay: bool = False,
    ) -> None:
        self.settings = settings
        self.data_dirs = list(data_dirs) or [settings.data_dir]
        self.allow_replay = allow_replay
        self.options = {
            "bind": bind,
            "workers": 1,
            "worker_class": "gthread",
            "threads": THREADS,
            "timeout": 30,
            "accesslog": None,
            "errorlog": "-",
            "control_socket_disable": True,
            "proc_name": "collector-console",
        }
        self.metrics = metrics or metrics_url(settings.bind)
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            if name in self.cfg.settings:
                self.cfg.set(name, value)

    def load(self) -> Any:
        from .app import create_app

        rejections = Rejections(self.metrics)
        rejections.start()
        return create_app(
            self.settings, self.settings.console_key or None, rejections, self.data_dirs, self.allow_replay
        )
