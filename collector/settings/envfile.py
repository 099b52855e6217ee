"""An environment file read as systemd's `EnvironmentFile=` reads it, for `collector settings --env-file`.

A shell cannot check such a file: `. collector.env` runs `per` as a command
for `COLLECTOR_RATE_LIMIT=1000 per minute`, which systemd reads as one value.
This follows systemd's own parser (src/basic/env-file.c, a state machine read
character by character): `KEY=VALUE` lines; lines starting with `#` or `;`
are comments, lines without `=` are skipped; whitespace around the key and
the value is dropped, inside an unquoted value kept; `'...'` is literal;
`"..."` takes `\\` before `"`, `\\`, `` ` `` and `$` (any other backslash stays);
outside quotes `\\` takes the next character as it is; a backslash before a
newline joins two lines; quotes may span lines; the last assignment wins.
Names that are not valid variable names are left out, as systemd leaves them
out of the service's environment; a file that is not UTF-8 is an error, as
systemd will not start the service with it.
"""

from __future__ import annotations

import re
from pathlib import Path

from .error import SettingsError

_WHITESPACE = " \t\n\r"
_NEWLINE = "\n\r"
_DOUBLE_QUOTE_ESCAPES = '"\\`$'
_NAME = re.compile("[A-Za-z_][A-Za-z0-9_]*")


def read(path: Path) -> dict[str, str]:
    """The variables `path` sets, as systemd would give them to the service.

    :raises SettingsError: one line, for a file that cannot be read or is not UTF-8.
    """
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except OSError as error:
        raise SettingsError(f"--env-file {str(path)!r}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise SettingsError(f"--env-file {str(path)!r}: not UTF-8 (systemd will not start with such a file)") from None
    return {key: value for key, value in parse(text) if _NAME.fullmatch(key)}


def parse(text: str) -> list[tuple[str, str]]:
    """Every assignment in `text`, in order, names not yet checked."""
    parser = _Parser()
    for char in text:
        parser.state(char)
    parser.end()
    return parser.found


class _Parser:
    """systemd's states, one method each; `state` is the method that reads the next character."""

    def __init__(self) -> None:
        self.found: list[tuple[str, str]] = []
        self.key, self.value = "", ""
        # Where an unquoted value's trailing whitespace starts (None: it has none, or it was escaped).
        self.trim_at: int | None = None
        self.state = self.pre_key

    def push(self) -> None:
        self.found.append((self.key.rstrip(_WHITESPACE), self.value))
        self.key, self.value = "", ""
        self.state = self.pre_key

    def end(self) -> None:
        if self.state == self.value_plain:
            self.value = self.value[: self.trim_at]
        if self.state not in (self.pre_key, self.key_chars, self.comment, self.comment_escape):
            self.push()

    def pre_key(self, c: str) -> None:
        if c in "#;":
            self.state = self.comment
        elif c not in _WHITESPACE:
            self.key, self.state = c, self.key_chars

    def key_chars(self, c: str) -> None:
        if c in _NEWLINE:
            self.key, self.state = "", self.pre_key  # a line without `=`
        elif c == "=":
            self.trim_at = None
            self.state = self.pre_value
        else:
            self.key += c

    def pre_value(self, c: str) -> None:
        if c in _NEWLINE:
            self.push()
        elif c == "'":
            self.state = self.single_quoted
        elif c == '"':
            self.state = self.double_quoted
        elif c == "\\":
            self.state = self.value_escape
        elif c not in _WHITESPACE:
            self.value += c
            self.state = self.value_plain

    def value_plain(self, c: str) -> None:
        if c in _NEWLINE:
            self.value = self.value[: self.trim_at]
            self.push()
        elif c == "\\":
            self.trim_at = None
            self.state = self.value_escape
        else:
            if c not in _WHITESPACE:
                self.trim_at = None
            elif self.trim_at is None:
                self.trim_at = len(self.value)
            self.value += c

    def value_escape(self, c: str) -> None:
        if c not in _NEWLINE:  # a backslash before a newline joins the lines
            self.value += c
        self.state = self.value_plain

    def single_quoted(self, c: str) -> None:
        if c == "'":
            self.state = self.pre_value
        else:
            self.value += c

    def double_quoted(self, c: str) -> None:
        if c == '"':
            self.state = self.pre_value
        elif c == "\\":
            self.state = self.double_quoted_escape
        else:
            self.value += c

    def double_quoted_escape(self, c: str) -> None:
        if c in _DOUBLE_QUOTE_ESCAPES:
            self.value += c
        elif c != "\n":
            self.value += "\\" + c
        self.state = self.double_quoted

    def comment(self, c: str) -> None:
        if c == "\\":
            self.state = self.comment_escape
        elif c in _NEWLINE:
            self.state = self.pre_key

    def comment_escape(self, c: str) -> None:
        self.state = self.pre_key if c in _NEWLINE else self.comment
