"""The declared settings as tables: for `collector settings`, and for docs/configuration.md.

docs/configuration.md's table is `markdown_table()`'s output, pasted in
(`python -m collector settings --markdown`); a test fails when they differ.
"""

from __future__ import annotations

import re

from . import values
from .declared import Settings, declarations
from .declaring import Setting

_CODE = re.compile("`([^`]*)`")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)#]*)(?:#[^)]*)?\)")


def text_table(settings: Settings) -> str:
    """Each variable, its value here, its default and what it does, in aligned columns."""
    shown = settings.describe()
    rows = [("variable", "value", "default", "meaning")]
    rows += [(s.env, shown[s.env], s.shown_default, plain(s.doc) + _range(s)) for s in declarations()]
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    # The first three columns padded; the fourth (meaning) follows unpadded.
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)) + "  " + row[3]
        for row in rows
    ]
    return "\n".join(lines) + "\n"


def markdown_table() -> str:
    """The configuration table of docs/configuration.md: variable, default, meaning."""
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    for s in declarations():
        default = f"`{s.default}`" if s.default else "empty"
        doc = s.doc.replace("|", "\\|") + _range(s)  # GitHub's tables take \| even inside code
        lines.append(f"| `{s.env}` | {default} | {doc} |")
    return "\n".join(lines) + "\n"


def _range(setting: Setting) -> str:
    """The bounds of a number (checked at start-up), written after its meaning."""
    found = values.bounds(setting.parse)
    if found is None:
        return ""
    low, high = (values.show_value(float(bound)) if bound is not None else None for bound in found)
    return f"; from {low} to {high}" if high is not None else f"; at least {low}"


def plain(doc: str) -> str:
    """A declared doc for a terminal: no backticks, and a link to a docs/ page as its title and page."""
    return _LINK.sub(r"\1 (docs/\2)", _CODE.sub(r"\1", doc))
