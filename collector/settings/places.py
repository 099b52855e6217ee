"""The settings that name a place: the rate-limit store, the listening address, the data directory, the host.

Each is checked as far as it can be without using it, so that a value the
service could only fail on later (a port out of range, a host that does not
resolve, a directory under a file) stops start-up with one line instead of a
traceback from gunicorn, limits or the writer.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
from collections.abc import Mapping
from pathlib import Path

from limits.storage import MovingWindowSupport, SlidingWindowCounterSupport

MEMORY = "memory://"
MEMCACHED = "memcached://"
SQLITE = "sqlite://"  # a file in the data directory: see collector/ratelimit/sqlite_storage.py

# The rate-limit strategies, each with what it needs from the storage, as limits declares it.
STRATEGIES: dict[str, type | None] = {
    "fixed-window": None,
    "sliding-window-counter": SlidingWindowCounterSupport,
    "moving-window": MovingWindowSupport,
}

# ASCII host names and IPv4 addresses. limits reads each host:port of a
# memcached URI with urllib; anything matching this (or a bracketed IPv6
# address) it reads back unchanged, which tests/unit/settings check.
_HOST_NAME = re.compile("[A-Za-z0-9._-]+")
_PORT = re.compile("[0-9]{1,5}")
_IPV4 = re.compile("[0-9.]+")


def host_port(text: str, lowest_port: int) -> tuple[str, int]:
    """`host:port` or `[ipv6]:port` split, the brackets removed.

    :raises ValueError: (without a message: callers know what they accept)
        for an empty or malformed host, or a port that is not ASCII digits
        from `lowest_port` to 65535.
    """
    host, colon, port = text.rpartition(":")
    if not colon or not _PORT.fullmatch(port) or not lowest_port <= int(port) <= 65535:
        raise ValueError
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
        ipaddress.IPv6Address(host)  # ValueError for an unclosed or bad address
    elif not _HOST_NAME.fullmatch(host):
        raise ValueError
    elif _IPV4.fullmatch(host):
        ipaddress.IPv4Address(host)
    return host, int(port)


def storage_uri(raw: str) -> str:
    uri = raw.strip()
    if uri in (MEMORY, SQLITE):
        return uri
    try:
        if not uri.startswith(MEMCACHED):
            raise ValueError
        for location in uri[len(MEMCACHED) :].split(","):
            host_port(location.strip(), lowest_port=1)
    except ValueError:
        raise ValueError(
            f"'{SQLITE}', '{MEMORY}' or '{MEMCACHED}HOST:PORT[,HOST:PORT...]' with ports from 1 to 65535"
        ) from None
    return uri


def bind(raw: str) -> str:
    """A single address gunicorn can bind: `unix:PATH`, or a host and a port (0: any free one)."""
    text = raw.strip()
    # gunicorn takes both unix:/path and unix:///path.
    if text.startswith("unix:") and text[len("unix:") :].removeprefix("//"):
        return text
    try:
        host, port = host_port(text, lowest_port=0)
        # A host name must resolve now, or gunicorn stops with a traceback later.
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (ValueError, OSError, UnicodeError):
        raise ValueError(
            "unix:PATH, or HOST:PORT with a port from 0 to 65535 and an IPv4 address, "
            "[IPv6] address or host name that resolves"
        ) from None
    return text


def listener_on(address: str) -> str | None:
    """Why the service cannot listen at `address`: another process listens there; None if free.

    gunicorn would retry five times and stop with lines of its own; this says
    it in one. The probe binds like such a listener would not (SO_REUSEADDR
    only: connections left in TIME_WAIT by a previous run do not count). Port
    0 (any free port) and unix sockets (gunicorn handles a stale path) are
    not probed.
    """
    if address.startswith("unix:") or address.endswith(":0"):
        return None
    host, port = host_port(address, lowest_port=1)
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            return f"{address} is in use by another process ({error.strerror})"
    return None


# systemd's socket activation (sd_listen_fds(3)): the sockets start at fd 3.
SD_LISTEN_FDS_START = 3


def socket_activated(environ: Mapping[str, str] | None = None) -> bool:
    """Whether systemd passed this process its listening socket (collector.socket), which gunicorn then uses."""
    environ = os.environ if environ is None else environ
    return environ.get("LISTEN_PID") == str(os.getpid()) and environ.get("LISTEN_FDS", "0") not in ("", "0")


def activated_socket_mismatch(address: str, fd: int = SD_LISTEN_FDS_START) -> str | None:
    """Why the socket systemd passed is not at `address` (COLLECTOR_BIND); None if it is.

    gunicorn listens on the passed socket whatever COLLECTOR_BIND says, while
    the console, docs/deploying.md's checks and the operator read COLLECTOR_BIND:
    the two must not silently differ.
    """
    with socket.socket(fileno=os.dup(fd)) as passed:
        name = passed.getsockname()
        family = passed.family
    if family == socket.AF_UNIX:
        where = f"unix:{name}"
        same = address.startswith("unix:") and address[len("unix:") :].removeprefix("//") == name
    else:
        where = f"[{name[0]}]:{name[1]}" if family == socket.AF_INET6 else f"{name[0]}:{name[1]}"
        same = not address.startswith("unix:") and _resolves_to(address, name[0], name[1])
    if same:
        return None
    return f"{address} is not where systemd's socket listens ({where}): make ListenStream= in collector.socket the same"


def _resolves_to(address: str, ip: str, port: int) -> bool:
    host, wanted_port = host_port(address, lowest_port=0)
    addresses = {info[4][0] for info in socket.getaddrinfo(host, wanted_port, type=socket.SOCK_STREAM)}
    return wanted_port == port and ip in addresses


def data_dir(raw: str) -> Path:
    """A directory that is there and writable, or that can be created.

    Nothing is created here: `collector settings` only looks.
    """
    if not raw.strip():
        raise ValueError("a directory path (empty would mean the current directory)")
    path = Path(raw)
    problem = _why_not_writable(path)
    if problem:
        raise ValueError(f"a directory that can be written, or created: {problem}")
    return path


def _why_not_writable(path: Path) -> str | None:
    existing = path.absolute()
    while not os.path.lexists(existing):
        existing = existing.parent
    # Checked before os.access: root passes access checks, yet cannot make a
    # directory in (or write files into) a regular file.
    if not existing.is_dir():
        return f"{existing} is not a directory"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"{existing} is not writable"
    return None


# COLLECTOR_HOST_NAME goes into every file name the service writes
# (events-<start>-<host>-<pid>-<seq>.jsonl.open, deadletters-<start>-<host>-<pid>.jsonl,
# and the hidden .events-...jsonl.gz.tmp): no `/`, no leading `.` or `-`, and
# at most 64 characters (Linux's own limit for a host name), which keeps the
# longest of those names (~150 bytes) under every file system's 255.
HOST_NAME_MAX = 64
_SAFE_HOST_NAME = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._-]{{0,{HOST_NAME_MAX - 1}}}")
_UNSAFE_HOST_CHARS = re.compile(r"[^A-Za-z0-9._-]")


def host_name(raw: str) -> str:
    """Empty (the machine's host name, see `machine_host_name`), or a name safe in a file name, kept as written."""
    name = raw.strip()
    if name and not _SAFE_HOST_NAME.fullmatch(name):
        raise ValueError(
            f"1 to {HOST_NAME_MAX} ASCII letters, digits, '.', '_' or '-', starting with a letter or digit "
            "(it is part of file names)"
        )
    return name


def machine_host_name() -> str:
    """The machine's host name made safe the same way: each other character as `_`, cut to 64."""
    name = _UNSAFE_HOST_CHARS.sub("_", socket.gethostname())[:HOST_NAME_MAX]
    return name if _SAFE_HOST_NAME.fullmatch(name) else ("host" + name)[:HOST_NAME_MAX]
