"""What the tests of the `collector` command share: a stored line, and a command run in this process."""

from __future__ import annotations

import orjson

from collector import cli


def line(event_type, received_at, **extra):
    return orjson.dumps({"eventType": event_type, "receivedAt": received_at, **extra}) + b"\n"


def run(capsys, *argv):
    """`collector *argv` here: its exit status, stdout and stderr."""
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err
