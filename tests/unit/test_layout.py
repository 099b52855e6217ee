"""The package's layout as docs/architecture.md draws it: read from the code's own imports (every one, those
under `if TYPE_CHECKING:` and inside functions too), so that a change that breaks it fails here."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.processes import ROOT

PACKAGE = ROOT / "collector"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _exists(module: str) -> bool:
    path = ROOT.joinpath(*module.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _imported(path: Path) -> Iterator[str]:
    """The collector modules `path` imports."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if alias.name.startswith("collector"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            elif node.module and node.module.startswith("collector"):
                target = node.module
            else:
                continue
            submodules = [f"{target}.{alias.name}" for alias in node.names if _exists(f"{target}.{alias.name}")]
            yield from submodules
            if len(submodules) < len(node.names):  # names defined in `target` itself
                yield target


def _unit(module: str) -> str:
    """The top-level package or module of `collector` that `module` belongs to (`collector` for its face)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "collector"


def package_imports() -> dict[str, set[str]]:
    """Each top-level package or module of `collector` -> those it imports."""
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        unit = _unit(_module_name(path))
        graph.setdefault(unit, set()).update(_unit(t) for t in _imported(path) if _unit(t) != unit)
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of `graph`, or None."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node], _ = "open", stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                return [*stack[stack.index(target) :], target]
            if target not in state and (found := visit(target)):
                return found
        state[node], _ = "done", stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_packages_import_one_another_in_one_direction_only():
    # Layers that point down: a package never imports one that imports it, directly or through others.
    assert _cycle(package_imports()) is None


def test_the_request_path_and_observability_never_reach_above_themselves():
    graph = package_imports()
    above_the_request_path = {"service", "stack", "server", "cli", "collector", "console"}
    for package in ("ingest", "deadletters", "ops", "request", "idempotency", "ratelimit", "store"):
        assert not graph[package] & above_the_request_path, package
    # ops is observability only: it counts and logs what the data path does, knowing nothing of it.
    assert not graph["ops"] & {"ingest", "store", "deadletters", "openapi", "idempotency", "ratelimit"}
    # What both ingest and ops need (the record, address privacy, header text) stands below both.
    assert graph["request"] == set()


def test_request_state_travels_in_the_record_only():
    # One record per request (collector/request/record.py), never flask.g.
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            uses_g = isinstance(node, ast.Attribute) and node.attr == "g" and getattr(node.value, "id", "") == "flask"
            imports_g = isinstance(node, ast.ImportFrom) and node.module == "flask" and any(
                alias.name == "g" for alias in node.names
            )
            assert not (uses_g or imports_g), f"{path.relative_to(ROOT)}:{node.lineno}"
