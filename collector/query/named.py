"""The named queries shipped with `collector events query --name`: SQL files a team can read and copy.

Each file in `named/` is one query over the view `events`, its first comment
lines saying what it answers (shown by `--list`).
"""

from __future__ import annotations

from importlib import resources


class UnknownQuery(LookupError):
    """No named query of that name."""


def _files() -> dict[str, str]:
    folder = resources.files(__package__).joinpath("named")
    return {
        entry.name.removesuffix(".sql"): entry.read_text(encoding="utf-8")
        for entry in folder.iterdir()
        if entry.name.endswith(".sql")
    }


def sql_of(name: str) -> str:
    """The SQL of the named query `name`.

    :raises UnknownQuery: no such query (the message lists those there are).
    """
    queries = _files()
    if name not in queries:
        raise UnknownQuery(f"no named query {name!r} (there are: {', '.join(sorted(queries))})")
    return queries[name]


def described() -> list[tuple[str, str]]:
    """(name, what it answers) of every named query, by name."""
    return [(name, _summary(text)) for name, text in sorted(_files().items())]


def _summary(text: str) -> str:
    comments = []
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        comments.append(line.removeprefix("--").strip())
    return " ".join(comments)
