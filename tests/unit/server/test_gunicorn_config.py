"""collector/server/gunicorn_config.py: the packaged configuration file, and gunicorn.conf.py that a checkout runs."""

from __future__ import annotations

import ast
from pathlib import Path

from collector.server import startup

ROOT = Path(__file__).resolve().parents[3]


def statements(path: Path) -> list[str]:
    """The file's code, without its docstring or comments."""
    body = ast.parse(path.read_text()).body
    return [
        ast.dump(node) for node in body if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
    ]


def test_the_checkouts_configuration_is_the_packaged_one():
    # `collector serve` and `gunicorn -c gunicorn.conf.py` must start the same service.
    assert statements(ROOT / "gunicorn.conf.py") == statements(startup.CONFIG_FILE)


def test_the_configuration_file_holds_no_logic_of_its_own():
    # Calls into the package only: what it does is unit-tested there, without gunicorn.
    logic = (ast.FunctionDef, ast.ClassDef, ast.Lambda, ast.If, ast.IfExp, ast.For, ast.While, ast.Try, ast.With)
    tree = ast.parse(startup.CONFIG_FILE.read_text())
    assert not [type(node).__name__ for node in ast.walk(tree) if isinstance(node, logic)]
