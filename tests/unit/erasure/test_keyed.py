from __future__ import annotations

import pytest

from collector.erasure import keyed


def test_the_key_is_made_once_private_and_kept(tmp_path):
    key = keyed.load_key(tmp_path)
    assert len(key) == keyed.KEY_BYTES
    assert (tmp_path / keyed.KEY_FILE).stat().st_mode & 0o777 == 0o600
    assert keyed.load_key(tmp_path) == key
    assert [p.name for p in tmp_path.iterdir()] == [keyed.KEY_FILE]


def test_no_key_is_made_when_not_asked(tmp_path):
    assert keyed.load_key(tmp_path, create=False) is None
    assert list(tmp_path.iterdir()) == []


def test_a_damaged_key_is_refused_rather_than_hashing_people_anew(tmp_path):
    (tmp_path / keyed.KEY_FILE).write_bytes(b"short")
    with pytest.raises(OSError, match="not an erasure key"):
        keyed.load_key(tmp_path)


def test_the_same_id_hashes_alike_under_one_key_and_differently_under_another():
    one, other = b"1" * 32, b"2" * 32
    assert keyed.hash_id(one, "u-1") == keyed.hash_id(one, "u-1") != keyed.hash_id(one, "u-2")
    assert keyed.hash_id(one, "u-1") != keyed.hash_id(other, "u-1")
    assert keyed.hash_id(one, "u-1").startswith("hmac:") and len(keyed.hash_id(one, "u-1")) == 5 + 32
