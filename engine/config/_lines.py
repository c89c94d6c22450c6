"""Where a key sits in a YAML file: the line of its node, read with the YAML loader's marks, so
a schema problem names `file:line` as a syntax error does."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from engine.config._errors import Problem


@lru_cache(maxsize=256)
def _root(path: Path, mtime: float) -> Any:
    import yaml

    try:
        return yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None


def yaml_line(path: Path, keys: Sequence[str]) -> int | None:
    """The 1-based line of the node at `keys` (mapping keys and list indices) in `path`, or None
    when the file does not spell that key out."""
    import yaml

    try:
        node = _root(path, path.stat().st_mtime)
    except OSError:
        return None
    line = None
    for key in keys:
        if isinstance(node, yaml.MappingNode):
            found = next((pair for pair in node.value if pair[0].value == key), None)
            if found is None:
                return None
            line, node = found[0].start_mark.line, found[1]
        elif isinstance(node, yaml.SequenceNode) and key.isdigit() and int(key) < len(node.value):
            node = node.value[int(key)]
            line = node.start_mark.line
        else:
            return None
    if line is None:
        return None if node is None else 1
    return line + 1


def is_global(path: Path) -> bool:
    """A `# @package _global_` file sets keys from the root, not under its group's name."""
    try:
        head = path.read_text(encoding="utf-8")[:2000]
    except (OSError, UnicodeDecodeError):
        return False
    return any(line.strip().replace(" ", "") == "#@package_global_" for line in head.splitlines())


def yaml_error(error: Exception, path: Path | None = None) -> Problem:
    """A YAML syntax error as a problem at the file and line the loader stopped at."""
    from engine.config._searchpath import display_path

    mark = getattr(error, "problem_mark", None)
    if mark is not None and mark.name and not mark.name.startswith("<"):
        path = Path(mark.name)
    where = display_path(path) if path is not None else None
    if where is not None and mark is not None:
        where = f"{where}:{mark.line + 1}"
    message = " ".join(str(getattr(error, "problem", None) or error).split())
    return Problem("", f"not valid YAML: {message}", where)
