"""EventWriter on real files: what survives a stop, and what settings reach it."""

from __future__ import annotations

import pytest

from collector import create_app, service
from collector.settings import SettingsError, load_settings
from collector.store.writer import EventWriter
from tests.servers import read_events


def test_close_salvages_a_file_deleted_after_the_last_write(tmp_path):
    writer = EventWriter(tmp_path, rotate_bytes=10**6, rotate_seconds=3600, host_name="h", fsync="never")
    writer.append([b'{"eventId":"1"}\n'])
    [path] = tmp_path.glob("events-*.open")
    path.unlink()
    writer.close()
    assert [e["eventId"] for e in read_events(tmp_path)] == ["1"]
    assert not list(tmp_path.glob("events-*.open"))


def test_storage_settings_have_safe_defaults_and_reach_the_writer(tmp_path):
    settings = load_settings(environ={})
    assert (settings.fsync, settings.fsync_seconds, settings.compress) == ("interval", 1.0, "none")
    assert settings.retention_days is None and settings.retention_bytes is None
    app = create_app({"data_dir": str(tmp_path), "fsync": "always", "fsync_seconds": "0.5"})
    writer = service.of(app).writer
    assert (writer.fsync, writer.fsync_seconds) == ("always", 0.5)


@pytest.mark.parametrize(
    "variable, value",
    [
        ("COLLECTOR_FSYNC", "sometimes"),
        ("COLLECTOR_FSYNC_SECONDS", "0"),
        ("COLLECTOR_COMPRESS", "zstd"),
        ("COLLECTOR_RETENTION_DAYS", "-1"),
        ("COLLECTOR_RETENTION_BYTES", "lots"),
    ],
)
def test_bad_storage_settings_stop_start_up_naming_the_variable(variable, value):
    with pytest.raises(SettingsError) as caught:
        load_settings(environ={variable: value})
    assert str(caught.value).startswith(f"{variable}={value!r} is not valid")
