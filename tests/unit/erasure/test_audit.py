from __future__ import annotations

from collector.erasure import audit
from collector.erasure.matching import Ids


def test_entries_are_appended_one_line_each_and_private(tmp_path):
    audit.append(tmp_path, {"at": audit.now(), "events": 1})
    audit.append(tmp_path, {"at": audit.now(), "events": 2})
    assert [entry["events"] for entry in audit.read(tmp_path)] == [1, 2]
    assert (tmp_path / "erasures.log").stat().st_mode & 0o777 == 0o600


def test_ids_are_kept_as_keyed_hashes_by_the_field_they_were_looked_for_in():
    hashed = audit.hashed_ids(Ids.of(user=["u-1"], any_field=["x"]), b"k" * 32)
    assert set(hashed) == {"userId", "anyField"}
    assert "u-1" not in str(hashed) and hashed["userId"][0].startswith("hmac:")
