"""`inspect-run list`: every task the search path offers, its one-line description and source.

Read straight from the YAML files (no Hydra, no pydantic), so listing is instant. A user's task
hides a built-in task of the same name, as it does when composing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine._assets import conf_dir
from engine.config._searchpath import display_path, find_group_file, group_options


@dataclass(frozen=True)
class TaskEntry:
    name: str
    description: str
    source: str
    """`built-in`, or the file it comes from."""
    dataset: str
    """Where its samples come from: a file, or `hf://REPO/NAME/SPLIT`."""


def task_catalog() -> list[TaskEntry]:
    entries = []
    builtin = conf_dir().resolve()
    for option in group_options("task"):
        path = find_group_file("task", option)
        if path is None:  # pragma: no cover - group_options only lists existing files
            continue
        data = _task_data(path)
        description = str(data.get("description") or "").strip()
        first_line = description.splitlines()[0] if description else "(no description)"
        is_builtin = path.resolve().is_relative_to(builtin)
        source = "built-in" if is_builtin else display_path(path)
        entries.append(TaskEntry(option, first_line, source, _dataset(data.get("dataset"))))
    return entries


def _task_data(path: Path, seen: frozenset[Path] = frozenset()) -> dict[str, Any]:
    """The file's keys over those of the task files its `defaults` list extends (`task=arc`
    extends `arc_challenge`), as Hydra merges them for the keys listed here."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        data = {}
    data = data if isinstance(data, dict) else {}
    merged: dict[str, Any] = {}
    for base in data.get("defaults") or []:
        base_path = find_group_file("task", base) if isinstance(base, str) else None
        if base != "_self_" and base_path is not None and base_path not in seen:
            merged.update(_task_data(base_path, seen | {path}))
    return {**merged, **data}


def _dataset(dataset: object) -> str:
    if not isinstance(dataset, dict):
        return "?"
    hub = dataset.get("hub")
    if isinstance(hub, dict):
        parts = [hub.get("path"), hub.get("name"), hub.get("split", "test")]
        return "hf://" + "/".join(str(part) for part in parts if part)
    return str(dataset.get("path") or "?")


def list_command(args: Sequence[str]) -> int:
    if args:
        print(f"inspect-run list: takes no arguments, got {' '.join(args)}")
        return 2
    entries = task_catalog()
    rows = [("task", "source", "dataset", "description")]
    rows += [(e.name, e.source, e.dataset, e.description) for e in entries]
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    for *cells, description in rows:
        padded = (cell.ljust(width) for cell, width in zip(cells, widths, strict=True))
        print("  ".join([*padded, description]))
    return 0


__all__ = ["TaskEntry", "list_command", "task_catalog"]
