"""collector/settings/suppressedfile.py: COLLECTOR_SUPPRESSED_IDS_FILE, read at start-up, refused in one line."""

from __future__ import annotations

import pytest

from collector.settings import SettingsError, load_settings, pinned, suppressed_ids_file_to_read
from collector.suppressed import LONGEST_ID, SuppressedIds


@pytest.fixture(autouse=True)
def nothing_pinned():
    pinned.unpin()
    yield
    pinned.unpin()


def environ(tmp_path, path) -> dict[str, str]:
    return {"COLLECTOR_DATA_DIR": str(tmp_path / "data"), "COLLECTOR_SUPPRESSED_IDS_FILE": str(path)}


def test_off_by_default(tmp_path):
    settings = load_settings(environ={"COLLECTOR_DATA_DIR": str(tmp_path)})
    assert settings.suppressed_ids_file is None
    assert settings.describe()["COLLECTOR_SUPPRESSED_IDS_FILE"] == "(empty)"


def test_the_file_is_read_once_into_the_settings_and_shown_with_how_many_ids(tmp_path):
    path = tmp_path / "suppressed.txt"
    path.write_text("# asked 2026-11-02\nu1\na1\n")
    settings = load_settings(environ=environ(tmp_path, path))
    assert settings.suppressed_ids_file == SuppressedIds(str(path), frozenset({"u1", "a1"}))
    assert settings.describe()["COLLECTOR_SUPPRESSED_IDS_FILE"] == f"{path} (2 ids)"


def test_a_file_over_its_bounds_or_missing_is_refused_in_one_line_naming_the_variable(tmp_path):
    path = tmp_path / "suppressed.txt"
    path.write_text("u1\n" + "x" * (LONGEST_ID + 1) + "\n")
    with pytest.raises(SettingsError) as caught:
        load_settings(environ=environ(tmp_path, path))
    assert str(caught.value) == (
        f"COLLECTOR_SUPPRESSED_IDS_FILE: {path}: line 2: an id longer than {LONGEST_ID} characters "
        "(the longest userId or anonymousId accepted)"
    )
    with pytest.raises(SettingsError, match=r"^COLLECTOR_SUPPRESSED_IDS_FILE: .*/none: cannot be read"):
        load_settings(environ=environ(tmp_path, tmp_path / "none"))


@pytest.mark.parametrize("where", ["data/suppressed.txt", "data/deeper/suppressed.txt", "link/suppressed.txt"])
def test_a_file_inside_the_data_directory_is_refused(tmp_path, where):
    (tmp_path / "data" / "deeper").mkdir(parents=True)
    (tmp_path / "link").symlink_to(tmp_path / "data")  # the same directory by another name
    path = tmp_path / where
    path.write_text("u1\n")
    with pytest.raises(SettingsError) as caught:
        load_settings(environ=environ(tmp_path, path))
    line = str(caught.value)
    assert line.startswith(f"COLLECTOR_SUPPRESSED_IDS_FILE={path} is inside COLLECTOR_DATA_DIR")
    assert "\n" not in line


def test_a_file_beside_the_data_directory_is_taken(tmp_path):
    (tmp_path / "data").mkdir()
    path = tmp_path / "data-suppressed.txt"  # a name that starts like the directory's, outside it
    path.write_text("u1\n")
    assert len(load_settings(environ=environ(tmp_path, path)).suppressed_ids_file) == 1


def test_a_worker_takes_the_list_its_master_pinned_for_the_same_file_and_never_reads_it(tmp_path):
    path = tmp_path / "suppressed.txt"
    path.write_text("u1\n")
    master = load_settings(environ=environ(tmp_path, path)).suppressed_ids_file
    pinned.pin("COLLECTOR_SUPPRESSED_IDS_FILE", master)
    path.write_text("x" * (LONGEST_ID + 1) + "\n")  # edited (broken) since: not read
    assert load_settings(environ=environ(tmp_path, path)).suppressed_ids_file is master


def test_the_file_to_append_to_is_read_from_its_variable_alone(tmp_path):
    # For `collector events forget --suppress`: another setting's bad value must not stop an erasure.
    assert suppressed_ids_file_to_read({"COLLECTOR_WORKERS": "many"}) is None
    assert suppressed_ids_file_to_read({"COLLECTOR_SUPPRESSED_IDS_FILE": "  "}) is None
    path = tmp_path / "not-yet-made.txt"
    environ = {"COLLECTOR_SUPPRESSED_IDS_FILE": f" {path} ", "COLLECTOR_WORKERS": "many"}
    assert suppressed_ids_file_to_read(environ) == path
