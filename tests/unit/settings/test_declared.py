"""Settings declared once: read from the environment, a value not valid said in one line, shown as written, documented.
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from collector.settings import Settings, SettingsError, declarations, load_settings, markdown_table
from tests.processes import ROOT
from tests.unit.settings import invalid_values
from tests.unit.settings.invalid_values import INVALID_VALUES, WORKERS_NEED_SHARED_STORAGE, not_valid


def test_defaults_give_a_working_service():
    settings = load_settings(environ={})
    assert settings.data_dir == Path("./data")
    assert settings.rate_limit == "1000 per minute"
    assert settings.rate_limit_storage == "sqlite://"
    assert settings.trusted_proxies == 0
    assert settings.max_body_bytes == 1048576
    assert settings.max_events == 500
    assert settings.max_event_bytes == 32768
    assert settings.event_types == frozenset()
    assert settings.rotate_bytes == 67108864
    assert settings.rotate_seconds == 3600
    assert settings.workers is None  # auto: one per core, counting limits in one SQLite file
    assert settings.worker_processes() == (os.cpu_count() or 1)
    assert settings.host_name  # the machine's


def test_values_are_read_from_the_environment():
    settings = load_settings(
        environ={
            "COLLECTOR_RATE_LIMIT": "10/second;500/hour",
            "COLLECTOR_RATE_LIMIT_STORAGE": "memcached://10.0.0.5:11211,10.0.0.6:11211",
            "COLLECTOR_EVENT_TYPES": " click, page_view ,,",
            "COLLECTOR_TRUSTED_PROXIES": "1",
            "COLLECTOR_WORKERS": "4",
        }
    )
    assert settings.rate_limit == "10/second;500/hour"
    assert settings.rate_limit_storage.startswith("memcached://")
    assert settings.event_types == {"click", "page_view"}
    assert settings.trusted_proxies == 1
    assert settings.workers == 4 and settings.worker_processes() == 4


def test_bots_are_flagged_by_default_and_a_team_patterns_read_in_order():
    assert (load_settings(environ={}).bots, load_settings(environ={}).bot_patterns) == ("flag", ())
    settings = load_settings(environ={"COLLECTOR_BOTS": "refuse", "COLLECTOR_BOT_PATTERNS": " acme-uptime , ^scraper/"})
    assert (settings.bots, settings.bot_patterns) == ("refuse", ("acme-uptime", "^scraper/"))
    assert settings.describe()["COLLECTOR_BOT_PATTERNS"] == "acme-uptime,^scraper/"


def test_auto_workers_is_one_per_core_with_memcached(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 6)
    environ = {"COLLECTOR_RATE_LIMIT_STORAGE": "memcached://m:11211", "COLLECTOR_WORKERS": "AUTO"}
    settings = load_settings(environ=environ)
    assert settings.workers is None and settings.worker_processes() == 6


def test_overrides_take_raw_strings_or_typed_values_and_only_known_names():
    settings = load_settings(environ={"COLLECTOR_MAX_EVENTS": "7"}, overrides={"max_events": "9", "threads": 2})
    assert (settings.max_events, settings.threads) == (9, 2)
    with pytest.raises(TypeError, match="no such setting: max_event"):
        load_settings(environ={}, overrides={"max_event": "9"})


@pytest.mark.parametrize(
    "variable, value, expected",
    [
        ("COLLECTOR_RATE_LIMIT", "lots", "flask-limiter's notation"),
        ("COLLECTOR_TRUSTED_PROXIES", "-1", "from 0 to"),
        ("COLLECTOR_MAX_BODY_BYTES", "1MB", "from 1 to"),
        ("COLLECTOR_MAX_EVENTS", "0", "from 1 to"),
        ("COLLECTOR_ROTATE_SECONDS", "nan", "a number of seconds from 1 to"),
        ("COLLECTOR_EVENT_TYPES", "ok,bad\x01type", "event types"),
        ("COLLECTOR_WORKERS", "many", "'auto'"),
        ("COLLECTOR_LOG_LEVEL", "loud", "one of debug"),
    ],
)
def test_a_bad_value_names_the_variable_and_what_it_accepts(variable, value, expected):
    with pytest.raises(SettingsError) as caught:
        load_settings(environ={variable: value})
    message = str(caught.value)
    assert message.startswith(f"{variable}={value!r} is not valid: expected ")
    assert expected in message
    assert "\n" not in message


@pytest.mark.parametrize("variable, value, expected", INVALID_VALUES)
def test_values_the_service_could_not_run_with_are_said_not_valid_in_one_line(variable, value, expected):
    with pytest.raises(SettingsError) as caught:
        load_settings(environ={variable: value})
    assert str(caught.value) == not_valid(variable, value, expected)


def test_several_workers_counting_limits_in_memory_stop_load_settings():
    with pytest.raises(SettingsError) as caught:
        load_settings(environ={"COLLECTOR_WORKERS": "3", "COLLECTOR_RATE_LIMIT_STORAGE": "memory://"})
    assert str(caught.value) == WORKERS_NEED_SHARED_STORAGE
    memory = {"COLLECTOR_RATE_LIMIT_STORAGE": "memory://"}
    assert load_settings(environ={**memory, "COLLECTOR_WORKERS": "1"}).worker_processes() == 1
    assert load_settings(environ=memory).worker_processes() == 1  # auto



def test_each_field_declares_its_variable_default_parser_and_doc():
    assert [setting.name for setting in declarations()] == [field.name for field in dataclasses.fields(Settings)]
    for setting in declarations():
        assert setting.env == "COLLECTOR_" + setting.name.upper()
        assert setting.doc and "\n" not in setting.doc, setting.env
        # A value left at its default is shown exactly as the default column shows it.
        assert setting.show(setting.parse(setting.default)) == setting.shown_default, setting.env


def test_values_are_shown_as_an_operator_writes_them():
    shown = load_settings(
        environ={
            "COLLECTOR_ROTATE_SECONDS": "3600.0",
            "COLLECTOR_RETENTION_DAYS": "1.5",
            "COLLECTOR_EVENT_TYPES": " view, click ",
            "COLLECTOR_DATA_DIR": "spool/events",
            "COLLECTOR_HOST_NAME": "web-1",
        }
    ).describe()
    assert shown["COLLECTOR_ROTATE_SECONDS"] == "3600"
    assert shown["COLLECTOR_RETENTION_DAYS"] == "1.5"
    assert shown["COLLECTOR_RETENTION_BYTES"] == "(empty)"
    assert shown["COLLECTOR_EVENT_TYPES"] == "click,view"
    assert shown["COLLECTOR_DATA_DIR"] == "./spool/events"
    assert shown["COLLECTOR_WORKERS"] == "auto"
    assert shown["COLLECTOR_RATE_LIMIT_TIMEOUT"] == "0.2"
    assert shown["COLLECTOR_HOST_NAME"] == "web-1"
    assert set(shown) == {setting.env for setting in declarations()}


def _readme_configuration_table() -> list[str]:
    readme = (ROOT / "docs" / "configuration.md").read_text()
    section = readme.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    return re.search(r"^\| variable \|.*?(?=\n\n|\Z)", section, re.M | re.S).group(0).splitlines()


def test_the_readme_configuration_table_is_the_declaration():
    # On failure: python -m collector settings --markdown, and paste it into docs/configuration.md.
    assert _readme_configuration_table() == markdown_table().splitlines()


def _gunicorn(env, *args):
    return subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", *args, "app:app"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "COLLECTOR_BIND": "127.0.0.1:0", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_gunicorn_will_not_start_with_a_bad_value_and_says_why_in_one_line(tmp_path):
    result = _gunicorn({"COLLECTOR_MAX_EVENTS": "lots", "COLLECTOR_DATA_DIR": str(tmp_path)}, "--check-config")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        "collector: COLLECTOR_MAX_EVENTS='lots' is not valid: expected a whole number from 1 to 100000"
    )


# A few of INVALID_VALUES, through gunicorn itself: each would otherwise fail later, in
# gunicorn's bind (a traceback) or in the workers (a restart loop).
REAL_START_STOPS = [
    ("COLLECTOR_RATE_LIMIT_STORAGE", "memcached://127.0.0.1:99999", invalid_values.STORAGE),
    ("COLLECTOR_BIND", "nonsense", invalid_values.BIND),
    ("COLLECTOR_BIND", "127.0.0.1:99999", invalid_values.BIND),
    ("COLLECTOR_RATE_LIMIT", "5 per 0 minute", invalid_values.RATE_LIMIT),
    ("COLLECTOR_EVENT_TYPES", ",,,", invalid_values.EVENT_TYPES),
    ("COLLECTOR_MAX_EVENT_BYTES", "100", invalid_values.MAX_EVENT_BYTES),
]


@pytest.mark.parametrize("variable, value, expected", REAL_START_STOPS)
def test_a_real_start_stops_before_binding_with_one_line(tmp_path, variable, value, expected):
    result = _gunicorn({"COLLECTOR_DATA_DIR": str(tmp_path), variable: value})
    assert result.returncode != 0
    assert result.stderr.strip() == "collector: " + not_valid(variable, value, expected)


def test_a_real_start_stops_at_a_data_directory_under_a_file(tmp_path):
    (tmp_path / "file").write_text("not a directory")
    result = _gunicorn({"COLLECTOR_DATA_DIR": str(tmp_path / "file" / "data")})
    assert result.returncode != 0
    assert result.stderr.strip() == (
        f"collector: COLLECTOR_DATA_DIR='{tmp_path}/file/data' is not valid: "
        f"expected a directory that can be written, or created: {tmp_path}/file is not a directory"
    )


def test_a_real_start_stops_at_several_workers_with_per_process_limit_counters(tmp_path):
    result = _gunicorn(
        {"COLLECTOR_WORKERS": "3", "COLLECTOR_RATE_LIMIT_STORAGE": "memory://", "COLLECTOR_DATA_DIR": str(tmp_path)}
    )
    assert result.returncode != 0
    assert result.stderr.strip() == "collector: " + WORKERS_NEED_SHARED_STORAGE


def test_the_control_character_rule_is_unicode_category_cc():
    import unicodedata

    from collector.settings import is_valid_event_type

    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if unicodedata.category(char) == "Cc":
            assert not is_valid_event_type(f"a{char}b"), hex(code)
        elif unicodedata.category(char) != "Cs" and code % 97 == 0:
            assert is_valid_event_type(f"a{char}b") or char.isspace(), hex(code)


# The idempotency state has no setting of its own: it follows COLLECTOR_RATE_LIMIT_STORAGE.
FOLLOWS = [
    ("sqlite://", "sqlite:// (idempotency state too)"),  # each in a SQLite file of its own in the data directory
    ("memory://", "memory:// (idempotency state: SQLite in the data dir)"),
    ("memcached://127.0.0.1:11211", "memcached://127.0.0.1:11211 (idempotency state too)"),
]


def test_the_rate_limit_storage_declaration_says_the_idempotency_state_follows_it():
    (storage,) = [setting for setting in declarations() if setting.env == "COLLECTOR_RATE_LIMIT_STORAGE"]
    assert "the idempotency state has no setting of its own and follows this one" in storage.doc
    assert "in the same memcached with `memcached://`, else in a SQLite file in the data directory" in storage.doc


@pytest.mark.parametrize("storage, shown", FOLLOWS)
def test_the_start_up_description_says_where_the_idempotency_state_is(storage, shown):
    settings = load_settings(environ={"COLLECTOR_RATE_LIMIT_STORAGE": storage})
    assert settings.describe()["COLLECTOR_RATE_LIMIT_STORAGE"] == shown
    assert settings.idempotency_in_memcached == storage.startswith("memcached://")
