"""collector/settings/access.py: who may send and read: CORS origins, write keys (never shown), the console's key."""

from __future__ import annotations

import pytest

from collector import cli
from collector.settings import SettingsError, access, load_settings
from tests.unit.settings.invalid_values import STORAGE

KEY = "k" * 16


@pytest.mark.parametrize(
    "raw, origins",
    [
        ("", frozenset()),
        ("*", frozenset({"*"})),
        ("https://www.example.com, http://localhost:3000/", frozenset({"https://www.example.com", "http://localhost:3000"})),
    ],
)
def test_cors_origins(raw, origins):
    assert load_settings(environ={"COLLECTOR_CORS_ORIGINS": raw}).cors_origins == origins


@pytest.mark.parametrize("raw", ["www.example.com", "https://example.com/path", "*,https://a.example", ",,", "ftp://x"])
def test_bad_cors_origins_are_said_not_valid_in_one_line(raw):
    with pytest.raises(SettingsError, match=r"^COLLECTOR_CORS_ORIGINS=.* is not valid: expected empty \(off\), '\*'"):
        load_settings(environ={"COLLECTOR_CORS_ORIGINS": raw})


def test_keys_come_from_the_variable_and_the_file(tmp_path):
    keys = tmp_path / "keys"
    keys.write_text(f"# the web site\n{'w' * 20}\n\n{'b' * 32}\n")
    settings = load_settings(environ={"COLLECTOR_API_KEYS": KEY, "COLLECTOR_API_KEYS_FILE": str(keys)})
    assert settings.write_keys == {KEY, "w" * 20, "b" * 32}


@pytest.mark.parametrize("raw", ["short", "k" * 16 + " space", ",", "é" * 16])
def test_bad_keys_are_not_valid(raw):
    with pytest.raises(SettingsError, match=r"^COLLECTOR_API_KEYS="):
        load_settings(environ={"COLLECTOR_API_KEYS": raw})


def test_a_missing_key_file_is_not_valid(tmp_path):
    with pytest.raises(SettingsError, match=r"COLLECTOR_API_KEYS_FILE=.*No such file or directory"):
        load_settings(environ={"COLLECTOR_API_KEYS_FILE": str(tmp_path / "missing")})


def test_keys_are_shown_only_by_how_many_and_a_secret_only_by_whether_it_is_set():
    assert access.show_keys(frozenset()) == "(empty)"
    assert access.show_keys(frozenset({KEY})) == "(1 key, not shown)"
    assert access.show_keys(frozenset({KEY, "w" * 20})) == "(2 keys, not shown)"
    assert (access.show_secret(""), access.show_secret(KEY)) == ("(empty)", "(set, not shown)")


def test_keys_are_never_shown(capsys, monkeypatch, make_app):
    monkeypatch.setenv("COLLECTOR_API_KEYS", KEY)
    assert cli.main(["settings"]) == 0
    out = capsys.readouterr().out
    assert KEY not in out and "(1 key, not shown)" in out
    make_app()
    assert KEY not in capsys.readouterr().err


def test_limits_per_key_need_keys():
    with pytest.raises(SettingsError, match=r"^COLLECTOR_RATE_LIMIT_BY=key needs write keys"):
        load_settings(environ={"COLLECTOR_RATE_LIMIT_BY": "key"})
    assert load_settings(environ={"COLLECTOR_RATE_LIMIT_BY": "key", "COLLECTOR_API_KEYS": KEY}).rate_limit_by == "key"


@pytest.mark.parametrize(
    "variable, raw",
    [
        # One key too short: the others are right, and as secret.
        ("COLLECTOR_API_KEYS", "Right-key-0123456789,Zq9short"),
        ("COLLECTOR_API_KEYS", "Right-key-0123456789,Zq9-with a-space"),
        ("COLLECTOR_CONSOLE_KEY", "Zq9short"),
    ],
)
def test_a_secret_that_is_not_valid_is_never_echoed(variable, raw):
    with pytest.raises(SettingsError) as caught:
        load_settings(environ={variable: raw})
    message = str(caught.value)
    assert message.startswith(f"{variable}=(not shown) is not valid: expected ")
    assert "Right-key" not in message and "Zq9" not in message


def test_a_key_file_not_valid_names_the_file_and_the_line_not_the_key(tmp_path):
    keys = tmp_path / "keys"
    keys.write_text(f"{KEY}\nZq9-too-short\n")
    with pytest.raises(SettingsError) as caught:
        load_settings(environ={"COLLECTOR_API_KEYS_FILE": str(keys)})
    assert str(caught.value) == (
        f"COLLECTOR_API_KEYS_FILE={str(keys)!r} is not valid: "
        "expected a file of keys of 16-256 visible ASCII characters, one per line (key 2 is not)"
    )


def test_a_password_in_a_storage_uri_not_valid_is_not_echoed():
    # memcached URIs take no credentials; one written with a password must not put it in the journal.
    with pytest.raises(SettingsError) as caught:
        load_settings(environ={"COLLECTOR_RATE_LIMIT_STORAGE": "memcached://admin:Zq9secret@cache:11211"})
    assert str(caught.value) == (
        f"COLLECTOR_RATE_LIMIT_STORAGE='memcached://(not shown)@cache:11211' is not valid: expected {STORAGE}"
    )
