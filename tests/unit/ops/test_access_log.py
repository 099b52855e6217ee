"""The access log shows client-sent text as sent, one request per line; never a write key, and the
client's address only as COLLECTOR_CLIENT_IP keeps it."""

from __future__ import annotations

import base64
import datetime
import json

import pytest
from gunicorn.config import Config
from gunicorn.http.errors import InvalidHeader, InvalidHeaderName, InvalidRequestLine, ObsoleteFolding

from collector.request.privacy import address_shown
from collector.ops.access_log import AccessLogger, JSONLogger, printable, without_write_keys


@pytest.mark.parametrize(
    "text, shown",
    [
        ("curl/8.0", "curl/8.0"),
        ("MyApp (ТЕСТ)", "MyApp (ТЕСТ)"),
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
    headers = [("Content-Type", "application/json")]


class Request:
    headers = [("AUTHORIZATION", f"Bearer {KEY}"), ("X-COLLECTOR-KEY", KEY), ("X-FORWARDED-FOR", ADDRESS)]


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


def logged(capsys, monkeypatch, logger_class, client_ip="full", access_log_format=None, **environ) -> str:
    monkeypatch.setenv("COLLECTOR_CLIENT_IP", client_ip)
    cfg = Config()
    cfg.set("accesslog", "-")
    if access_log_format:
        cfg.set("access_log_format", access_log_format)
    logger = logger_class(cfg)
    logger.access(Response(), Request(), request_environ(**environ), datetime.timedelta(milliseconds=3))
    # gunicorn's own line about a request it could not parse.
    logger.error_log.warning("Invalid request from ip=%s: Invalid HTTP Version 'GET /?writeKey=%s'", ADDRESS, KEY)
    captured = capsys.readouterr()
    return captured.out + captured.err


EVERYTHING = "%(h)s %(r)s %(q)s %({authorization}i)s %({x-collector-key}i)s %({x-forwarded-for}i)s %({raw_uri}e)s"


@pytest.mark.parametrize("logger_class", [AccessLogger, JSONLogger])
def test_write_keys_are_never_logged(capsys, monkeypatch, logger_class):
    text = logged(capsys, monkeypatch, logger_class, access_log_format=EVERYTHING)
    assert KEY not in text
    assert "writeKey=[redacted]" in text


def test_a_key_sent_as_http_basic_is_not_logged_as_the_user(capsys, monkeypatch):
    # Segment-style clients send the write key as the Basic user name.
    basic = "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()
    monkeypatch.setattr(Request, "headers", [("AUTHORIZATION", basic)])
    text = logged(capsys, monkeypatch, AccessLogger, authorization=basic)  # gunicorn's default format has %(u)s
    assert KEY not in text
    assert f"{ADDRESS} - - [" in text


@pytest.mark.parametrize("logger_class", [AccessLogger, JSONLogger])
@pytest.mark.parametrize(
    "line, shown",
    [
        (f"X-Collector-Key {KEY}", "X-Collector-Key [redacted]"),
        (f"Authorization: Bearer {KEY}\x00", "Authorization [redacted]"),
        (KEY, "[redacted]"),
        ("CONTENT-LENGTH", "CONTENT-LENGTH"),
    ],
)
def test_gunicorn_never_quotes_a_malformed_header_value(capsys, monkeypatch, logger_class, line, shown):
    monkeypatch.setenv("COLLECTOR_CLIENT_IP", "full")
    logger = logger_class(Config())
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
def test_gunicorn_quotes_a_malformed_request_line_without_its_key(capsys, monkeypatch, line, shown):
    monkeypatch.setenv("COLLECTOR_CLIENT_IP", "full")
    AccessLogger(Config()).warning(f"Invalid request from ip={ADDRESS}: {InvalidRequestLine(line)}")
    text = capsys.readouterr().err
    assert KEY not in text
    assert f"Invalid HTTP request line: {shown!r}" in text


def test_the_text_log_redacts_the_key_and_keeps_the_rest_of_the_request_line(capsys, monkeypatch):
    text = logged(capsys, monkeypatch, AccessLogger, query=f"a=1&writeKey={KEY}&b=2")
    assert '"POST /collect/event?a=1&writeKey=[redacted]&b=2 HTTP/1.1" 201 79' in text
    assert text.startswith(ADDRESS + " ")


@pytest.mark.parametrize("logger_class", [AccessLogger, JSONLogger])
@pytest.mark.parametrize("client_ip, shown", [("truncate", "198.51.100.0"), ("drop", None), ("hash", "hash")])
def test_the_address_is_logged_as_it_is_stored(capsys, monkeypatch, logger_class, client_ip, shown):
    text = logged(capsys, monkeypatch, logger_class, client_ip, access_log_format=EVERYTHING)
    assert ADDRESS not in text
    expected = address_shown(client_ip)(ADDRESS) if shown == "hash" else shown
    if logger_class is JSONLogger:
        access = json.loads(text.splitlines()[0])
        assert access.get("client") == expected
    else:
        assert text.startswith(f"{expected or '-'} ")
    assert f"Invalid request from ip={expected or '-'}: " in text


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
