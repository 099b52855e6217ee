"""collector/cli/serve.py: `collector serve` becomes gunicorn with the packaged configuration, in the same process."""

from __future__ import annotations

from collector import cli
from collector.server import startup


def test_serve_execs_gunicorn_with_the_packaged_configuration(monkeypatch):
    execs = []
    monkeypatch.setattr(cli.serve.os, "execv", lambda path, argv: execs.append((path, argv)))
    cli.main(["serve"])
    argv = startup.command()
    assert execs == [(argv[0], argv)] and argv[-3:] == ["-c", str(startup.CONFIG_FILE), "collector.wsgi:app"]


def test_serve_is_listed_in_the_help(capsys):
    cli.build_parser().print_help()
    assert "serve" in capsys.readouterr().out
