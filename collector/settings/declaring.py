"""How a setting is declared: `declare(default, parser, doc)` as a field of `Settings` (declared.py), read
back as a `Setting`."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from . import values

PREFIX = "COLLECTOR_"
KEY = "collector.setting"  # where a field's declaration is kept in its metadata


@dataclasses.dataclass(frozen=True)
class Setting:
    """One declared setting: its field, its variable, and how its values are read and shown."""

    name: str
    env: str
    default: str
    parse: Callable[[str], Any]
    doc: str
    show: Callable[[Any], str]
    # A secret's value is never echoed, not even a wrong one: it may be the
    # right key mistyped, or hold the right keys beside a wrong one.
    secret: bool = False

    @property
    def shown_default(self) -> str:
        return self.default or values.EMPTY


def declare(
    default: str,
    parse: Callable[[str], Any],
    doc: str,
    show: Callable[[Any], str] = values.show_value,
    secret: bool = False,
) -> Any:
    """A `Settings` field read from its variable: `default` is the raw text used when it is unset."""
    return dataclasses.field(metadata={KEY: dict(default=default, parse=parse, doc=doc, show=show, secret=secret)})
