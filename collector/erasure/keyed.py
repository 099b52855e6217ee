"""Keyed hashes of ids: what the audit log keeps of an erased id, and what `--anonymise` puts in its place.

The key is a secret of the data directory (`.erasure.key`, 32 random bytes,
mode 0600), made by the first erasure and kept: the same id gives the same
hash in every erasure, so the audit log can answer "was this person erased?"
(hash the id again and look) and anonymised events still count distinct
people. A hash without a key could be reversed by hashing guesses (ids are
often e-mail addresses or small integers); with the key it cannot, by anyone
who lacks the key.

Why a file there and not a setting: the key must outlive every erasure and go
wherever the data directory goes (a restore from backup keeps hashes alike);
a setting could change between two erasures and silently split one person in
two. Whoever holds the data directory holds the key, so the hashes are
pseudonyms, not anonymity (see docs/erasure.md): deleting the key file makes
every hash so far unlinkable, and later ones differ from them.
"""

from __future__ import annotations

import errno
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from ..store import datafiles

KEY_FILE = ".erasure.key"
KEY_BYTES = 32
# 128 bits of the HMAC: collisions between people need ~2^64 of them.
HASH_HEX_DIGITS = 32
PREFIX = "hmac:"


def load_key(data_dir: Path, create: bool = True) -> bytes | None:
    """The data directory's erasure key, made once (0600, fsynced) if `create`; None if missing and not made."""
    path = Path(data_dir) / KEY_FILE
    try:
        return _read(path)
    except FileNotFoundError:
        if not create:
            return None
    temp = path.with_name(KEY_FILE + f".{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        datafiles.write_all(fd, secrets.token_bytes(KEY_BYTES))
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        # link, not rename: a key some other process made first is kept, never replaced.
        os.link(temp, path)
    except FileExistsError:
        pass
    finally:
        temp.unlink()
    datafiles.fsync_directory(Path(data_dir))
    return _read(path)


def _read(path: Path) -> bytes:
    key = path.read_bytes()
    if len(key) != KEY_BYTES:
        raise OSError(errno.EINVAL, f"not an erasure key ({len(key)} bytes, not {KEY_BYTES}); "
                      "restore it from a backup, or remove it to start new hashes", str(path))
    return key


def hash_id(key: bytes, value: str) -> str:
    """The keyed hash of an id, as stored in place of it and in the audit log: `hmac:` and 32 hex digits."""
    digest = hmac.new(key, value.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
    return PREFIX + digest[:HASH_HEX_DIGITS]
