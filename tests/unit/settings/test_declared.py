import subprocess
import sys
from pathlib import Path

import pytest

from collector.settings import SPECS, SettingsError, load_settings

from tests.processes import ROOT


def test_defaults_give_a_working_service():
    settings = load_settings(environ={})
    assert settings.data_dir == Path("./data")
    assert settings.rate_limit == "1000 per minute"
    assert settings.rate_limit_storage == "memory://"
    assert settings.trusted_proxies == 0
    assert settings.max_body_bytes == 1048576
    assert settings.max_events == 500
    assert settings.max_event_bytes == 32768
    assert settings.event_types == frozenset()
    assert settings.rotate_bytes == 67108864
    assert settings.rotate_seconds == 3600
    assert settings.workers == 0  # auto
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
    assert settings.workers == 4


@pytest.mark.parametrize(
    "variable, value, expected",
    [
        ("COLLECTOR_RATE_LIMIT", "lots", "flask-limiter's notation"),
        ("COLLECTOR_RATE_LIMIT_STORAGE", "redis://localhost", "memcached://"),
        ("COLLECTOR_TRUSTED_PROXIES", "-1", "at least 0"),
        ("COLLECTOR_MAX_BODY_BYTES", "1MB", "at least 1"),
        ("COLLECTOR_MAX_EVENTS", "0", "at least 1"),
        ("COLLECTOR_ROTATE_SECONDS", "nan", "greater than 0"),
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


def test_every_setting_is_in_the_readme_table():
    readme = (ROOT / "README.md").read_text()
    for spec in SPECS.values():
        assert f"| `{spec.env}` |" in readme, spec.env


def _gunicorn_check_config(env):
    return subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--check-config", "app:app"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", **env, "COLLECTOR_DATA_DIR": "/tmp/collector-check"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_gunicorn_refuses_to_start_with_a_bad_value_in_one_line():
    result = _gunicorn_check_config({"COLLECTOR_MAX_EVENTS": "lots"})
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        "collector: COLLECTOR_MAX_EVENTS='lots' is not valid: expected a whole number of at least 1"
    )


def test_gunicorn_refuses_several_workers_with_per_process_limit_counters():
    result = _gunicorn_check_config({"COLLECTOR_WORKERS": "3"})
    assert result.returncode != 0
    assert "COLLECTOR_WORKERS > 1 needs COLLECTOR_RATE_LIMIT_STORAGE=memcached://" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_control_character_rule_is_unicode_category_cc():
    import sys
    import unicodedata

    from collector.settings import is_valid_event_type

    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if unicodedata.category(char) == "Cc":
            assert not is_valid_event_type(f"a{char}b"), hex(code)
        elif unicodedata.category(char) != "Cs" and code % 97 == 0:
            assert is_valid_event_type(f"a{char}b") or char.isspace(), hex(code)
