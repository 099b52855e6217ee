"""The README and the manual in docs/: every relative link reaches a file, and every #anchor a heading.

That the manual covers every setting is the drift test of docs/configuration.md's generated table
(tests/unit/settings/test_declared.py): the table lists every declared COLLECTOR_* setting.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.processes import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
_FENCE = re.compile(r"^```.*?^```", re.M | re.S)
_CODE = re.compile(r"`[^`\n]*`")


def prose(text: str) -> str:
    """The text outside code blocks, where a Markdown link is a link."""
    return _FENCE.sub("", text)


def anchor(heading: str) -> str:
    # GitHub's rule: lowercase, punctuation dropped except '-' and '_', each space a '-'.
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    found: set[str] = set()
    for heading in re.findall(r"^#{1,6} (.+)$", prose(page.read_text()), re.M):
        name, n = anchor(heading), 1
        while name in found:  # GitHub numbers repeated headings: name, name-1, name-2
            name, n = f"{anchor(heading)}-{n}", n + 1
        found.add(name)
    return found


def links(page: Path) -> list[str]:
    text = _CODE.sub("", prose(page.read_text()))
    return [target for target in _LINK.findall(text) if not re.match(r"[a-z]+:", target)]


def broken(page: Path) -> list[str]:
    found = []
    for target in links(page):
        path, _, name = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            found.append(f"{target}: no such file")
        elif name and (dest.suffix != ".md" or name not in anchors(dest)):
            found.append(f"{target}: no such heading")
    return found


def test_the_anchor_rule_is_githubs():
    assert anchor("`POST /collect/event`") == "post-collectevent"
    assert anchor("What is kept of the client's address") == "what-is-kept-of-the-clients-address"
    assert anchor("Workers, threads and exact limits") == "workers-threads-and-exact-limits"


def test_the_manual_has_pages_and_the_readme_maps_them():
    assert len(PAGES) > 10
    mapped = {(ROOT / target).resolve() for target in links(ROOT / "README.md")}
    assert {page.resolve() for page in PAGES[1:]} <= mapped


def test_every_relative_link_and_anchor_exists():
    found = {page.relative_to(ROOT).as_posix(): broken(page) for page in PAGES}
    assert {page: problems for page, problems in found.items() if problems} == {}


def test_a_broken_link_is_found(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Page\n\n## A section\n\n[ok](#a-section) [gone](#nowhere) [file](missing.md)\n")
    assert broken(page) == ["#nowhere: no such heading", "missing.md: no such file"]
