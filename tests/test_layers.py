"""The layer rules of `engine/`, read from the imports (every import: module level, inside
functions and under TYPE_CHECKING alike, since each one is a dependency).

1. No cycle between engine's units (a subpackage `engine/X/` or a top-level module `engine/_y.py`),
   and no import against the order of `LAYERS` (lowest first, after DESIGN.md's Layers) unless
   `UPWARD` allows it.
2. Nothing imports another package's private module (`engine.X._y` from outside `engine/X/`):
   the owning package exports what others use, unless `PRIVATE` allows it.

Both allow-lists can only shrink: an entry that is no longer needed fails the test too, so a fix
is recorded by deleting its line. A new edge never goes in them without a reason beside it.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import engine

ROOT = Path(engine.__file__).parent

LAYERS: list[set[str]] = [
    {
        "engine._gc",
        "engine._secrets",
        "engine._assets",
        "engine._prices",
        "engine._sharding",
        "engine.errors",
        "engine._remote_urls",
        "engine.messages",
    },
    {"engine.logs"},
    {"engine._local_files", "engine._usercode", "engine.registry"},
    {"engine.config"},
    {"engine.cache"},
    {"engine.providers"},
    {"engine.batch"},
    {"engine.models"},
    {"engine.datasets"},
    {"engine.solvers"},
    {"engine.scorers"},
    {"engine.runner"},
    {"engine.shards"},
    {"engine.compare"},
    {"engine.gate"},
    {"engine.sweeps"},
    {"engine", "engine.components", "engine._listing", "engine.cli"},
]
"""Units, lowest first: a unit may import units of its own layer or below (without a cycle)."""

UPWARD: set[tuple[str, str]] = set()
"""Imports against the order of LAYERS, known and to be removed."""

PRIVATE: set[tuple[str, str]] = set()
"""(importing module, private module of another package), known and to be removed."""


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _unit(module: str) -> str:
    """`engine.config._compose` → `engine.config`; `engine._secrets` → itself; `engine` → `engine`."""
    return ".".join(module.split(".")[:2])


def _is_module(name: str) -> bool:
    """`engine.config._compose` names a module; `engine.config.ConfigError` a name in one."""
    path = ROOT.parent.joinpath(*name.split("."))
    return path.is_dir() or path.with_suffix(".py").is_file()


@functools.cache
def _imports() -> list[tuple[str, str]]:
    """(importing module, imported module or `module.name`) for every import of engine code."""
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        importer = _module_name(path)
        package = importer if path.name == "__init__.py" else importer.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parent, *([node.module] if node.module else [])])
                names = (f"{base}.{alias.name}" for alias in node.names)
                targets = [base, *(name for name in names if _is_module(name))]
            else:
                continue
            for target in targets:
                if target == "engine" or target.startswith("engine."):
                    found.append((importer, target))
    return found


def _is_package(unit: str) -> bool:
    return (ROOT / unit.removeprefix("engine.")).is_dir() and unit != "engine"


def _edges() -> set[tuple[str, str]]:
    edges = set()
    for importer, target in _imports():
        source, imported = _unit(importer), _unit(target)
        if source != imported:
            edges.add((source, imported))
    return edges


def _private_imports(imports: list[tuple[str, str]] | None = None) -> set[tuple[str, str]]:
    found = set()
    for importer, target in _imports() if imports is None else imports:
        parts = target.split(".")
        if (
            len(parts) >= 3
            and parts[2].startswith("_")
            and not parts[2].startswith("__")
            and _is_package(_unit(target))
            and _unit(importer) != _unit(target)
        ):
            found.add((importer, ".".join(parts[:3])))
    return found


def _cycle(edges: set[tuple[str, str]]) -> list[str] | None:
    """One cycle of the graph, or None."""
    graph: dict[str, set[str]] = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_every_unit_has_a_layer() -> None:
    units = {_unit(m) for m, _ in _imports()} | {b for _, b in _edges()}
    placed = set().union(*LAYERS)
    assert units - placed == set(), "place the new package or module in LAYERS"


def test_no_import_goes_up_the_layers_or_closes_a_cycle() -> None:
    rank = {unit: index for index, layer in enumerate(LAYERS) for unit in layer}
    edges = _edges()
    upward = {(a, b) for a, b in edges if rank.get(b, 0) > rank.get(a, 0)}
    assert upward - UPWARD == set(), "an import against the order of LAYERS"
    assert UPWARD - upward == set(), "no longer imported: delete it from UPWARD"
    assert _cycle(edges - UPWARD) is None


def test_no_private_module_of_another_package_is_imported() -> None:
    found = _private_imports()
    assert found - PRIVATE == set(), "import it from the owning package (export it there)"
    assert PRIVATE - found == set(), "no longer imported: delete it from PRIVATE"


def test_the_checks_see_a_cycle_and_a_private_import() -> None:
    """The rules themselves: a cycle is found, and `engine.X._y` counts as private."""
    assert _cycle({("a", "b"), ("b", "c"), ("c", "a")}) == ["a", "b", "c", "a"]
    assert _cycle({("a", "b"), ("b", "c")}) is None
    inside = ("engine.config._schema", "engine.config._errors.ConfigError")
    outside = ("engine.models._model", "engine.logs._transcript.Transcript")
    public = ("engine.models._model", "engine.logs.Transcript")
    assert _private_imports([inside, outside, public]) == {
        ("engine.models._model", "engine.logs._transcript")
    }
