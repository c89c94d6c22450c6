"""The components half of `inspect-run list`: built-in, installed packages' and the user's own.

A user's components are found by reading (not running) the Python files in the task directories:
a function decorated with `@solver`, `@scorer`, `@metric` or `@reducer` (`@engine.scorer`, or with
`name=…`) is listed under the reference YAML uses, `FILE.py:FUNCTION`. Packages' entry points are
listed by name without importing them.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from engine._assets import tasks_dir
from engine.config import display_path, user_config_dirs
from engine.registry import Entry, Registry

KINDS = ("solver", "scorer", "metric", "reducer")


def registries() -> list[Registry[object]]:  # type: ignore[type-var]
    from engine.scorers import metrics, reducers, scorers
    from engine.solvers import solvers

    return [solvers, scorers, metrics, reducers]  # type: ignore[list-item]


def task_dirs() -> list[Path]:
    """Where `FILE.py:NAME` references load from: `tasks/` beside each user config dir, then the
    built-in `tasks/` (as planning uses them)."""
    return [d.parent / "tasks" for d in user_config_dirs()] + [tasks_dir()]


def file_components(directories: list[Path]) -> Iterator[Entry]:
    """Decorated factories in the `.py` files under `directories` (a file earlier in the search
    order hides a later one of the same relative path, as loading does)."""
    seen: set[str] = set()
    for directory in directories:
        if not directory.is_dir():
            continue
        for path in sorted(directory.rglob("*.py")):
            relative = path.relative_to(directory).as_posix()
            if relative in seen or any(part.startswith((".", "__")) for part in path.parts):
                continue
            seen.add(relative)
            try:
                tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            except (OSError, SyntaxError, UnicodeDecodeError):
                continue
            for node in tree.body:
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    kind = _decorated_kind(node)
                    if kind is not None:
                        arguments = f"({ast.unparse(node.args)})"
                        source = (
                            f"built-in tasks/{relative}"
                            if directory.resolve() == tasks_dir().resolve()
                            else display_path(path)
                        )
                        yield Entry(kind, f"{relative}:{node.name}", source, arguments)


def _decorated_kind(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", None)
        if name in KINDS:
            return str(name)
    return None


def component_catalog() -> list[Entry]:
    entries = [entry for registry in registries() for entry in registry.catalog()]
    return entries + list(file_components(task_dirs()))


def print_components() -> None:
    entries = sorted(
        component_catalog(), key=lambda e: (KINDS.index(e.kind), e.source != "built-in")
    )
    rows = [("component", "kind", "source", "arguments")]
    rows += [(e.name, e.kind, e.source, e.arguments) for e in entries]
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    for *cells, arguments in rows:
        padded = (cell.ljust(width) for cell, width in zip(cells, widths, strict=True))
        print("  ".join([*padded, arguments]).rstrip())
