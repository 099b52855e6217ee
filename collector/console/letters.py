"""The console's dead letters: the latest rejections by code, one letter in full, and its replay when allowed.

What a web team debugs first is here with its detail: a 401 (which key id was
tried), a refused CORS preflight (its origin and what it asked for), a
tracking-plan refusal (its JSON pointers), and every other letter with its
body. The list is read as the index reads events, only what was written since
the last look, and keeps the newest letters of each code (a flood of 401s
does not push the one 400 an operator is after out of the list).

Replay is a write, and the console is read-only unless its operator asks:
the route exists only with COLLECTOR_CONSOLE_KEY and `collector console
--allow-replay` (see `add_routes`). It goes through deadletters.replay, the
very code of `collector deadletter replay`: its lock, today's checks, the
idempotency state and `replayed.log`, so a letter is never stored twice.

Over several data directories (stores.py) each directory's letters are read
as one directory's are, and each letter listed or opened carries its
`instance`; replay is offered only with one directory (app.py), the one a
replay stores into.
"""

from __future__ import annotations

import threading
import uuid
from collections import deque
from pathlib import Path
from typing import Any

import flask
import orjson

from .. import jsontext
from ..deadletters import letters as deadletters
from ..deadletters.replay import ReplayReport, replay, why_not_replayed
from ..errors import INVALID_QUERY, NOT_FOUND, REPLAY_RUNNING, UNSUPPORTED_MEDIA_TYPE, CollectorError
from ..settings import Settings
from ..store import datafiles

# The newest letters kept per code, and the most codes (letters are written by the collector, but a directory
# may hold anything named like them).
PER_CODE = 50
MAX_CODES = 100
DEFAULT_LIMIT = 50
BODY_FIELDS = ("body", "bodyBase64")


class LatestByCode:
    """The newest letters of each code, without their bodies, read incrementally."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._offsets: dict[str, int] = {}
        # Each letter with the order it was read in: letters of the same millisecond stay in the order written.
        self._by_code: dict[str, deque[tuple[int, dict[str, Any]]]] = {}
        self._read = 0
        self._lock = threading.Lock()

    def latest(self, code: str | None, limit: int) -> tuple[list[dict[str, Any]], dict[str, int]]:
        """The newest `limit` letters (of `code`), newest first, and how many of each code are listed."""
        with self._lock:
            for letter in deadletters.read_new(self.data_dir, self._offsets):
                self._add({key: value for key, value in letter.items() if key not in BODY_FIELDS})
            chosen = [pair for kept in self._by_code.values() for pair in kept if code in (None, pair[1]["code"])]
            codes = {name: len(kept) for name, kept in sorted(self._by_code.items())}
        chosen.sort(key=lambda pair: (str(pair[1].get("receivedAt", "")), pair[0]), reverse=True)
        return [letter for _, letter in chosen[:limit]], codes

    def _add(self, letter: dict[str, Any]) -> None:
        code = letter["code"] = str(letter.get("code", ""))
        kept = self._by_code.get(code)
        if kept is None:
            if len(self._by_code) >= MAX_CODES:
                return
            kept = self._by_code[code] = deque(maxlen=PER_CODE)
        self._read += 1
        kept.append((self._read, letter))


def find(data_dir: Path, letter_id: str) -> dict[str, Any] | None:
    """The letter `letter_id` in full, or None: each file is searched for the id's bytes before a line is parsed.

    The letters may fill COLLECTOR_DEAD_LETTER_MAX_BYTES (100 MiB by default): a click must not parse them all.
    """
    wanted = letter_id.encode("ascii")
    for path in sorted((Path(data_dir) / deadletters.DIRECTORY).glob("deadletters-*.jsonl")):
        try:
            with datafiles.open_regular(path) as stream:
                data = stream.read()
        except OSError:
            continue  # deleted by the cap since it was listed, or not a file: read_new says so once
        at = data.find(wanted)
        while at >= 0:
            start, end = data.rfind(b"\n", 0, at) + 1, data.find(b"\n", at)
            if end >= 0:  # a whole line: a writer may be in the middle of the last
                try:
                    letter = jsontext.loads(data[start:end])
                except jsontext.InvalidJSON:
                    letter = None
                if isinstance(letter, dict) and letter.get("id") == letter_id:
                    return letter
            at = data.find(wanted, at + 1)
    return None


def replay_outcome(report: ReplayReport) -> dict[str, Any] | None:
    """What replaying one letter did, for the page; None when no letter of that id was found."""
    if report.stored:
        _, ping_id, events = report.stored[0]
        return {"outcome": "stored", "pingId": ping_id, "events": events, "duplicates": report.duplicates}
    if report.already:
        return {"outcome": "already replayed"}
    if report.already_stored:
        return {"outcome": "already stored", "duplicates": report.duplicates}
    if report.refused:
        return {"outcome": "still rejected", "code": next(iter(report.refused))}
    if report.never:
        return {"outcome": "never replayed", "why": f"its code {next(iter(report.never))}: never replayed"}
    if report.not_replayable:
        return {"outcome": "not replayable", "why": report.not_replayable[0][1]}
    return None


def add_routes(
    app: flask.Flask, settings: Settings, directories: dict[str, Path], *, allow_replay: bool
) -> None:
    """The letters' routes on the console `app` over `directories` (instance -> data directory); the replay route
    only with `allow_replay`."""
    several = len(directories) > 1
    latest = {instance: LatestByCode(data_dir) for instance, data_dir in directories.items()}

    @app.get("/api/rejections")
    def rejections() -> flask.Response:
        code, limit = _code_parameter(), _limit_parameter()
        found: list[dict[str, Any]] = []
        codes: dict[str, int] = {}
        for instance, kept in latest.items():
            letters, counted = kept.latest(code, limit)
            found.extend({**letter, "instance": instance} if several else letter for letter in letters)
            for name, count in counted.items():
                codes[name] = codes.get(name, 0) + count
        found.sort(key=lambda letter: str(letter.get("receivedAt", "")), reverse=True)  # stable: each one's order
        return _json({"letters": found[:limit], "codes": dict(sorted(codes.items())), "replay": allow_replay})

    @app.get("/api/deadletters/<letter_id>")
    def letter(letter_id: str) -> flask.Response:
        instance, found = _found(directories, letter_id)
        replayed = found["id"] in deadletters.replayed_ids(directories[instance])
        why_not = why_not_replayed(found)
        shown = {**found, "instance": instance} if several else found
        return _json({"letter": shown, "replay": {"allowed": allow_replay, "replayed": replayed, "why_not": why_not}})

    if allow_replay:
        app.post("/api/deadletters/<letter_id>/replay")(_replay_route(settings))


def _replay_route(settings: Settings) -> Any:
    def replay_letter(letter_id: str) -> flask.Response:
        # JSON only: a form on a page elsewhere cannot send it, and a script there cannot without a preflight the
        # console never allows; the key a browser remembers (HTTP Basic) would go with a form.
        if flask.request.mimetype != "application/json":
            raise CollectorError(UNSUPPORTED_MEDIA_TYPE, "a replay is asked with Content-Type: application/json")
        _found({"": settings.data_dir}, letter_id)
        try:
            outcome = replay_outcome(replay(settings, only=letter_id))
        except deadletters.ReplayRunning as running:
            raise CollectorError(REPLAY_RUNNING, f"{running}; nothing was replayed, try again") from running
        if outcome is None:  # deleted by the cap since it was found
            raise CollectorError(NOT_FOUND, f"no dead letter {letter_id} (the cap may have deleted it)")
        return _json(outcome)

    return replay_letter


def _limit_parameter() -> int:
    raw = flask.request.args.get("limit")
    if raw is None:
        return DEFAULT_LIMIT
    if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= PER_CODE * MAX_CODES):
        raise CollectorError(INVALID_QUERY, f"query parameter limit must be a whole number from 1 to "
                             f"{PER_CODE * MAX_CODES}; got {raw[:64]!r}")
    return int(raw)


def _code_parameter() -> str | None:
    code = flask.request.args.get("code")
    if code is not None and not 1 <= len(code) <= 64:
        raise CollectorError(INVALID_QUERY, "query parameter code must be 1-64 characters")
    return code


def _found(directories: dict[str, Path], letter_id: str) -> tuple[str, dict[str, Any]]:
    """The instance whose directory holds the letter `letter_id`, and the letter in full.

    :raises CollectorError: not_found, for an id that is no letter's (or no id at all).
    """
    try:
        uuid.UUID(letter_id)
    except ValueError:
        pass
    else:
        for instance, data_dir in directories.items():
            letter = find(data_dir, letter_id)
            if letter is not None:
                return instance, letter
    raise CollectorError(NOT_FOUND, f"no dead letter {letter_id[:64]!r}: not kept, or deleted by the cap")


def _json(body: Any) -> flask.Response:
    return flask.Response(orjson.dumps(body), mimetype="application/json")
