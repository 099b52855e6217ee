"""A person's dead letters: deleted, not anonymised, since each holds a refused request's raw body.

Each letter file is rewritten without the person's letters the way event files
are (`rewrite.py`: a hidden temporary name that `letters.read` never globs,
fsynced, renamed over the old, or the file removed when left empty), holding
the dead letters' own cap lock: every writer appends only while holding it,
so no letter is appended to a file while it is replaced, and the writer
that comes next opens the file by name, the new one.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .. import jsontext
from ..deadletters import letters
from . import blocks, rewrite
from .matching import Matcher


def letter_files(data_dir: Path) -> list[Path]:
    return sorted((Path(data_dir) / letters.DIRECTORY).glob("deadletters-*.jsonl"))


def theirs(data_dir: Path, matcher: Matcher) -> Iterator[dict[str, Any]]:
    """The person's dead letters, oldest file first (for an export)."""
    return (letter for letter in letters.read(data_dir) if matcher.letter_is_theirs(letter))


def erase(data_dir: Path, matcher: Matcher, dry_run: bool) -> int:
    """Delete (or with `dry_run`, count) the person's dead letters; how many."""
    if not (Path(data_dir) / letters.DIRECTORY).is_dir():
        return 0
    if dry_run:
        return sum(1 for _ in theirs(data_dir, matcher))

    def keep(line: bytes) -> bytes | None:
        try:
            letter = jsontext.loads(line)
        except jsontext.InvalidJSON:
            return line  # not a letter: not ours to judge
        return None if isinstance(letter, dict) and matcher.letter_is_theirs(letter) else line

    erased = 0
    with letters.cap_lock(Path(data_dir) / letters.DIRECTORY):
        for path in letter_files(data_dir):
            if sum(1 for letter in _letters_of(path) if matcher.letter_is_theirs(letter)):
                erased += rewrite.rewrite(path, blocks.per_line(keep)).dropped
    return erased


def _letters_of(path: Path) -> Iterator[dict[str, Any]]:
    for line in path.read_bytes().splitlines():
        try:
            letter = jsontext.loads(line)
        except jsontext.InvalidJSON:
            continue
        if isinstance(letter, dict):
            yield letter
