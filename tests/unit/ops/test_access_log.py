"""The access log shows client-sent text as sent, one request per line; never a write key, and the
client's address only as COLLECTOR_CLIENT_IP keeps it."""

from __future__ import annotations

import base64
import datetime
import json
from typing import ClassVar

import pytest
from gunicorn.config import Config
from gunicorn.http.errors import InvalidHeader, InvalidHeaderName, InvalidRequestLine, ObsoleteFolding

from collector.ops.access_log import AccessLogger, JSONLogger, logger_class, printable, without_write_keys
from collector.request.privacy import address_shown
from collector.settings import load_settings


@pytest.mark.parametrize(
    "text, shown",
    [
        ("curl/8.0", "curl/8.0"),
        ("MyApp (ТЕСТ)", "MyApp (ТЕСТ)"),  # noqa: RUF001 - Cyrillic on purpose: a User-Agent sent in UTF-8
        ("a\x85b", "a\\x85b"),
        ("a\u2028b\nc", "a\\u2028b\\nc"),
        ("\x1b[31mred", "\\x1b[31mred"),
    ],
)
def test_control_characters_are_escaped_and_the_rest_kept(text, shown):
    assert printable(text) == shown


# Write keys and client addresses in both loggers, with gunicorn's own Logger machinery.

KEY = "k3y-0123456789abcdef"
ADDRESS = "198.51.100.77"


class Response:
    status = "201 CREATED"
    sent = 79
    headers: ClassVar[list[tuple[str, str]]] = [("Content-Type", "application/json")]


class Request:
    headers: ClassVar[list[tuple[str, str]]] = [
        ("AUTHORIZATION", f"Bearer {KEY}"),
        ("X-COLLECTOR-KEY", KEY),
        ("X-FORWARDED-FOR", ADDRESS),
    ]


def request_environ(query: str = f"writeKey={KEY}", authorization: str = f"Bearer {KEY}") -> dict:
    return {
        "REQUEST_METHOD": "POST",
        "RAW_URI": f"/collect/event?{query}",
        "PATH_INFO": "/collect/event",
        "QUERY_STRING": query,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": ADDRESS,
        "HTTP_USER_AGENT": "curl/8.0",
        "HTTP_AUTHORIZATION": authorization,
        "HTTP_X_FORWARDED_FOR": ADDRESS,
    }


def made(log_format: str = "text", client_ip: str = "full", cfg: Config | None = None):
    """gunicorn's logger for these settings, made as gunicorn makes it: from the class its configuration names."""
    cfg = Config() if cfg is None else cfg
    cfg.set("logger_class", logger_class(load_settings({}, {"log_format": log_format, "client_ip": client_ip})))
    return cfg.logger_class(cfg)


def logged(capsys, log_format, client_ip="full", access_log_format=None, **environ) -> str:
    cfg = Config()
    cfg.set("accesslog", "-")
    if access_log_format:
        cfg.set("access_log_format", access_log_format)
    logger = made(log_format, client_ip, cfg)
    logger.access(Response(), Request(), request_environ(**environ), datetime.timedelta(milliseconds=3))
    # gunicorn's own line about a request it could not parse.
    logger.error_log.warning("Invalid request from ip=%s: Invalid HTTP Version 'GET /?writeKey=%s'", ADDRESS, KEY)
    captured = capsys.readouterr()
    return captured.out + captured.err


EVERYTHING = "%(h)s %(r)s %(q)s %({authorization}i)s %({x-collector-key}i)s %({x-forwarded-for}i)s %({raw_uri}e)s"


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_write_keys_are_never_logged(capsys, log_format):
    text = logged(capsys, log_format, access_log_format=EVERYTHING)
    assert KEY not in text
    assert "writeKey=[redacted]" in text


def test_a_key_sent_as_http_basic_is_not_logged_as_the_user(capsys, monkeypatch):
    # Segment-style clients send the write key as the Basic user name.
    basic = "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()
    monkeypatch.setattr(Request, "headers", [("AUTHORIZATION", basic)])
    text = logged(capsys, "text", authorization=basic)  # gunicorn's default format has %(u)s
    assert KEY not in text
    assert f"{ADDRESS} - - [" in text


@pytest.mark.parametrize("log_format", ["text", "json"])
@pytest.mark.parametrize(
    "line, shown",
    [
        (f"X-Collector-Key {KEY}", "X-Collector-Key [redacted]"),
        (f"Authorization: Bearer {KEY}\x00", "Authorization [redacted]"),
        (KEY, "[redacted]"),
        ("CONTENT-LENGTH", "CONTENT-LENGTH"),
    ],
)
def test_gunicorn_never_quotes_a_malformed_header_value(capsys, log_format, line, shown):
    logger = made(log_format)
    # As gunicorn's Worker.handle_error words it, for each parse error that quotes a header.
    errors = (InvalidHeader(line), InvalidHeaderName(line), ObsoleteFolding(line), InvalidRequestLine(line))
    for error in errors:
        logger.warning(f"Invalid request from ip={ADDRESS}: {error}")
    text = "".join(capsys.readouterr())
    assert KEY not in text
    assert text.count(repr(shown)) == len(errors)


@pytest.mark.parametrize(
    "line, shown",
    [
        (f"GET /collect/event?writekey={KEY} HTTP/1.1", "GET /collect/event?writekey=[redacted] HTTP/1.1"),
        (f"POST /collect/event?writeKey={KEY}", "POST /collect/event?writeKey=[redacted]"),
        ("\x16\x03\x01", "[redacted]"),
    ],
)
def test_gunicorn_quotes_a_malformed_request_line_without_its_key(capsys, line, shown):
    made().warning(f"Invalid request from ip={ADDRESS}: {InvalidRequestLine(line)}")
    text = capsys.readouterr().err
    assert KEY not in text
    assert f"Invalid HTTP request line: {shown!r}" in text


def test_the_text_log_redacts_the_key_and_keeps_the_rest_of_the_request_line(capsys):
    text = logged(capsys, "text", query=f"a=1&writeKey={KEY}&b=2")
    assert '"POST /collect/event?a=1&writeKey=[redacted]&b=2 HTTP/1.1" 201 79' in text
    assert text.startswith(ADDRESS + " ")


@pytest.mark.parametrize("log_format", ["text", "json"])
@pytest.mark.parametrize("client_ip, shown", [("truncate", "198.51.100.0"), ("drop", None), ("hash", "hash")])
def test_the_address_is_logged_as_it_is_stored(capsys, log_format, client_ip, shown):
    text = logged(capsys, log_format, client_ip, access_log_format=EVERYTHING)
    assert ADDRESS not in text
    expected = address_shown(client_ip)(ADDRESS) if shown == "hash" else shown
    if log_format == "json":
        access = json.loads(text.splitlines()[0])
        assert access.get("client") == expected
    else:
        assert text.startswith(f"{expected or '-'} ")
    assert f"Invalid request from ip={expected or '-'}: " in text



# The settings reach the logger through its class: gunicorn.conf.py read them once.


def test_the_logger_is_the_formats_and_carries_the_address_mode():
    assert isinstance(made("json", "drop"), JSONLogger) and type(made("json", "drop")).client_ip == "drop"
    assert isinstance(made("text", "hash"), AccessLogger) and type(made("text", "hash")).client_ip == "hash"


def test_the_logger_does_not_read_the_environment(capsys, monkeypatch):
    monkeypatch.setenv("COLLECTOR_CLIENT_IP", "full")
    monkeypatch.setenv("COLLECTOR_THREADS", "lots")  # a second reading of the settings would stop here
    text = logged(capsys, "json", "drop")
    assert ADDRESS not in text and "client" not in json.loads(text.splitlines()[0])


def test_a_sighup_sets_the_logger_up_again_with_the_mode_the_configuration_read_then(capsys):
    # gunicorn keeps its logger across a reload and calls setup() with the new cfg.
    cfg = Config()
    cfg.set("accesslog", "-")
    logger = made("text", "full", cfg)
    reloaded = Config()
    reloaded.set("accesslog", "-")
    reloaded.set("logger_class", logger_class(load_settings({}, {"client_ip": "drop"})))
    logger.setup(reloaded)
    logger.access(Response(), Request(), request_environ(), datetime.timedelta(milliseconds=3))
    assert capsys.readouterr().out.startswith("- - - [")


def test_a_logger_made_without_the_settings_is_refused():
    with pytest.raises(TypeError, match="logger_class"):
        JSONLogger(Config())


@pytest.mark.parametrize(
    "text, shown",
    [
        ("POST /collect/event?writeKey=abc HTTP/1.1", "POST /collect/event?writeKey=[redacted] HTTP/1.1"),
        ("writeKey=abc&x=1", "writeKey=[redacted]&x=1"),
        ("x=1&writeKey=a%2Bb", "x=1&writeKey=[redacted]"),
        ("x=1&mywriteKey=abc", "x=1&mywriteKey=abc"),
        # Not taken as a key (the name is matched as written), but a key all the same.
        ("x=1&writekey=abc", "x=1&writekey=[redacted]"),
        ("WRITEKEY=abc&x=1", "WRITEKEY=[redacted]&x=1"),
        ("GET /collect/event?write%4Bey=abc HTTP/1.1", "GET /collect/event?write%4Bey=[redacted] HTTP/1.1"),
        ("x=1", "x=1"),
    ],
)
def test_without_write_keys(text, shown):
    assert without_write_keys(text) == shown
