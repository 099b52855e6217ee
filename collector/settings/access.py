"""The settings about who may send and who may read: CORS origins, write keys, the console's key.

Write keys are secrets: they are never shown (`collector settings` and the
start-up log say how many there are). The file that holds them is read by
gunicorn's master, at start-up and on each SIGHUP, and its workers take the
keys it read (collector/settings/pinned.py says why), as the tracking plan.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from . import pinned

# An origin as browsers send it: scheme, host, optional port; no path.
_ORIGIN = re.compile(r"https?://[a-z0-9.-]+(:[0-9]{1,5})?|https?://\[[0-9a-f:.]+\](:[0-9]{1,5})?")
# Visible ASCII but the separators a key travels in (`,` in the variable, whitespace in the file).
_KEY = re.compile(r"[!-+\--~]{16,256}")
MIN_KEY_LENGTH = 16


def cors_origins(raw: str) -> frozenset[str]:
    """Empty (off), `*`, or a comma-separated list of origins (`https://shop.example.com`)."""
    names = [name.strip().lower().rstrip("/") for name in raw.split(",") if name.strip()]
    if not raw.strip():
        return frozenset()
    if names == ["*"]:
        return frozenset({"*"})
    if not names or not all(_ORIGIN.fullmatch(name) for name in names):
        raise ValueError(
            "empty (off), '*', or comma-separated origins such as 'https://www.example.com,http://localhost:3000'"
        )
    return frozenset(names)


def api_keys(raw: str) -> frozenset[str]:
    """Empty (no keys), or comma-separated keys of 16-256 visible ASCII characters."""
    keys = [key.strip() for key in raw.split(",") if key.strip()]
    if raw.strip() and not keys:
        raise ValueError(_KEYS_ACCEPTED)
    # Which key is wrong is said by its place, never by its text (nor its length).
    bad = [number for number, key in enumerate(keys, start=1) if not _KEY.fullmatch(key)]
    if bad:
        raise ValueError(f"{_KEYS_ACCEPTED} (key {bad[0]} of {len(keys)} is not)")
    return frozenset(keys)


_KEYS_ACCEPTED = f"empty, or comma-separated keys of {MIN_KEY_LENGTH}-256 visible ASCII characters without commas"


KEYS_FILE_VARIABLE = "COLLECTOR_API_KEYS_FILE"


class KeysFile(frozenset[str]):
    """The write keys read from a file, and the file (`source`), by which a worker finds its master's."""

    source: str

    def __new__(cls, keys: Iterable[str], source: str) -> KeysFile:
        held = super().__new__(cls, keys)
        held.source = source
        return held


def api_keys_file(raw: str) -> KeysFile | None:
    """None when empty, or the keys of a readable file, one per line (blank lines and `#` comments skipped); in a
    worker, the keys its master read (pinned.py)."""
    # A bad file raises ValueError, which the declaration words behind the variable, as for the other settings.
    return pinned.read_file(KEYS_FILE_VARIABLE, raw, read_keys_file)


def read_keys_file(raw: str) -> KeysFile:
    """The keys of the file `raw` names.

    :raises ValueError: it cannot be read, or a key breaks the bounds (said by its line number, never its text).
    """
    path = Path(raw)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeError) as error:
        raise ValueError(
            f"a readable UTF-8 file of keys, one per line ({path}: {getattr(error, 'strerror', None) or error})"
        ) from None
    keys = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    bad = [number for number, key in enumerate(keys, start=1) if not _KEY.fullmatch(key)]
    if bad:
        raise ValueError(
            f"a file of keys of {MIN_KEY_LENGTH}-256 visible ASCII characters, one per line (key {bad[0]} is not)"
        )
    return KeysFile(keys, raw)


def show_keys(keys: frozenset[str] | None) -> str:
    """Keys are secrets: only how many there are is ever shown."""
    return "(empty)" if not keys else f"({len(keys)} key{'s' if len(keys) != 1 else ''}, not shown)"


CONSOLE_KEY_MIN = 16


def console_key(raw: str) -> str:
    """The console's key: empty (loopback only, see `collector console`) or at least 16 visible ASCII characters."""
    key = raw.strip()
    if key and not (len(key) >= CONSOLE_KEY_MIN and key.isascii() and key.isprintable() and " " not in key):
        raise ValueError(f"empty, or at least {CONSOLE_KEY_MIN} visible ASCII characters without spaces")
    return key


def show_secret(value: str) -> str:
    return "(empty)" if not value else "(set, not shown)"
