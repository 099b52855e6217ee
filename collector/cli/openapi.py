"""`collector openapi`: the OpenAPI document the service serves, for the default settings.

A module of its own though small: one command per module, as its tests are
one file per module (tests/unit/cli/test_openapi.py).
"""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from ..settings import load_settings


def add_commands(commands: Any) -> None:
    """Add `openapi` to the subcommands `commands` of the `collector` parser."""
    openapi = commands.add_parser(
        "openapi",
        help="the OpenAPI document of POST /collect/event, for the default settings",
        description="Print the OpenAPI 3 document the service serves at GET /openapi.json, for the default "
        "settings (reads no environment): python -m collector openapi > docs/openapi.json",
    )
    openapi.set_defaults(run=run_openapi)


def run_openapi(args: argparse.Namespace, out: TextIO) -> int:
    from .. import openapi  # here: flask and apispec are not needed by the other commands

    out.write(openapi.render(openapi.document(load_settings(environ={}))).decode())
    out.flush()
    return 0
