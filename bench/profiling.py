"""py-spy profiles of the collector's workers under load, and what they say.

py-spy samples every gunicorn worker (`--subprocesses`) without pausing them
(`--nonblocking`) and writes collapsed stacks (`--format raw`). Python frames
only: time inside a C function (orjson.loads, os.write, socket.recv) shows as
the own time of the Python line that called it, which is why the buckets below
are defined by the calling collector/library function.
"""

from __future__ import annotations

import collections
import dataclasses
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import procs

_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")

# Where a sample's time goes: the OUTERMOST frame matching one of these
# (checked root -> leaf) names the bucket, so a bucket holds everything its
# function calls. Samples with no match fall back to the library of their leaf.
BUCKETS: list[tuple[str, str, str]] = [
    # (bucket, file suffix, function name or "" for any)
    ("gunicorn access log", "gunicorn/glogging.py", "Logger.access"),
    ("rate limiter (flask-limiter + limits + storage)", "flask_limiter/_extension.py", ""),
    ("JSON parse (parse_json: orjson.loads + long-int regex)", "collector/ingest/parsing.py", "parse_json"),
    ("content-type check", "collector/ingest/parsing.py", "check_content_type"),
    (
        "validation (RequestValidator.validate: fast path, marshmallow otherwise)",
        "collector/ingest/schemas.py",
        "RequestValidator.validate",
    ),
    ("stored lines (stored_lines: orjson.dumps + uuid4 per event)", "collector/ingest/enrich.py", "stored_lines"),
    ("request facts (uuid4 pingId, datetime, headers)", "collector/ingest/facts.py", "request_facts"),
    ("file write (EventWriter.append)", "collector/store/writer.py", "EventWriter.append"),
    ("response body (created_response)", "collector/ingest/views.py", "created_response"),
    ("body read (read_body: werkzeug get_data)", "collector/ingest/parsing.py", "read_body"),
    ("after_request hooks (limiter headers etc.)", "flask/app.py", "Flask.process_response"),
]
FALLBACK = [
    ("werkzeug (request/response objects, other)", "werkzeug/"),
    ("flask (dispatch, context, other)", "flask/"),
    ("gunicorn (HTTP parse, socket I/O, worker loop)", "gunicorn/"),
]
# Reported as inclusive shares too (a sample counts if any frame matches).
INCLUSIVE: list[tuple[str, str, str]] = [
    ("marshmallow (any frame)", "marshmallow/", ""),
    ("uuid.uuid4 (any caller)", "uuid.py", "uuid4"),
    ("pymemcache (memcached round-trips)", "pymemcache/", ""),
    ("limits.storage.memory", "limits/storage/memory.py", ""),
    ("os.write / fstat / stat in the writer", "collector/store/writer.py", "EventWriter._write"),
    ("werkzeug (any frame)", "werkzeug/", ""),
    ("flask views.collect_event (the handler)", "collector/ingest/views.py", "collect_event"),
    ("gunicorn access log", "gunicorn/glogging.py", "Logger.access"),
    ("logging module (any)", "logging/__init__.py", ""),
]


def ensure_py_spy() -> str:
    """py-spy from bench/requirements.txt, installed with pip when missing."""
    found = procs.find_binary("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if found:
        return found
    requirements = Path(__file__).resolve().parent / "requirements.txt"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-r", str(requirements)], check=True)
    return shutil.which("py-spy", path=str(Path(sys.executable).parent)) or "py-spy"


@dataclasses.dataclass
class Profile:
    samples: int
    buckets: list[tuple[str, float]]
    inclusive: list[tuple[str, float]]
    own: list[tuple[str, float]]
    cumulative: list[tuple[str, float]]
    load_rps: float
    gil: bool


def record(
    server: procs.Gunicorn, out: Path, seconds: float, load: Callable[[float], object], gil: bool = True
) -> Profile:
    """Sample every worker of `server` for `seconds` while `load(seconds)` runs.

    With `gil`, only samples of the thread holding the GIL count: where the
    worker's Python CPU goes (the GIL-bound resource). Without it, threads that
    wait in a syscall (memcached round-trip, socket send, lock) count too.
    """
    spy = subprocess.Popen(
        [ensure_py_spy(), "record", "--pid", str(server.process.pid), "--subprocesses",
         "--nonblocking", "--rate", "100", "--format", "raw", "-o", str(out),
         "--duration", str(int(seconds)), *(["--gil"] if gil else [])],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    result: dict[str, object] = {}
    driver = threading.Thread(target=lambda: result.setdefault("round", load(seconds + 1)))
    driver.start()
    try:
        spy.wait(seconds + 60)
    finally:
        if spy.poll() is None:
            spy.kill()
            spy.wait(10)
        driver.join(seconds + 120)
    found = result.get("round")
    return analyse(out.read_text(), getattr(found, "rps", float("nan")), gil=gil)


def parse_frames(line: str) -> tuple[list[tuple[str, str]], int]:
    stack, _, count = line.rpartition(" ")
    frames = []
    for raw in stack.split(";"):
        match = _FRAME.match(raw)
        if match and not raw.startswith(("process ", "thread ")):
            frames.append((match["func"], _short(match["file"])))
    return frames, int(count)


def _short(path: str) -> str:
    for marker in ("site-packages/", "/collector/", "lib/python3"):
        if marker in path:
            tail = path.split(marker, 1)[1]
            return ("collector/" + tail) if marker == "/collector/" else tail.lstrip("0123456789./")
    return path


def _matches(frame: tuple[str, str], suffix: str, func: str) -> bool:
    name, path = frame
    return (path.endswith(suffix) or path.startswith(suffix)) and (not func or name == func)


def _bucket(frames: list[tuple[str, str]]) -> str:
    for frame in frames:
        for bucket, suffix, func in BUCKETS:
            if _matches(frame, suffix, func):
                return bucket
    leaf = frames[-1] if frames else ("?", "?")
    for bucket, prefix in FALLBACK:
        if leaf[1].startswith(prefix):
            return bucket
    return f"other ({leaf[1].split('/')[0]})"


def analyse(raw: str, load_rps: float, top: int = 15, gil: bool = True) -> Profile:
    buckets, inclusive = collections.Counter(), collections.Counter()
    own, cumulative = collections.Counter(), collections.Counter()
    total = 0
    for line in raw.splitlines():
        if not line.strip():
            continue
        frames, count = parse_frames(line)
        if not frames:
            continue
        total += count
        buckets[_bucket(frames)] += count
        for name, suffix, func in INCLUSIVE:
            if any(_matches(frame, suffix, func) for frame in frames):
                inclusive[name] += count
        own[f"{frames[-1][0]} ({frames[-1][1]})"] += count
        for key in {f"{name} ({path})" for name, path in frames}:
            cumulative[key] += count

    def shares(counter: collections.Counter, limit: int | None = None) -> list[tuple[str, float]]:
        return [(key, 100 * n / total) for key, n in counter.most_common(limit)] if total else []

    return Profile(total, shares(buckets), shares(inclusive), shares(own, top),
                   shares(_drop_frames_common_to_all(cumulative, total), top), load_rps, gil)


def _drop_frames_common_to_all(cumulative: collections.Counter, total: int) -> collections.Counter:
    """Thread bootstrap and worker-loop frames are in ~every sample: not informative."""
    return collections.Counter({k: n for k, n in cumulative.items() if n < 0.97 * total})
