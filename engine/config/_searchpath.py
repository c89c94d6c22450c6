"""Where config groups are looked up: the user's dirs first, then the built-in `conf/`.

User dirs are `INSPECT_RUN_CONFIG_PATH` (os.pathsep-separated), then `./conf` when it exists, plus
any passed explicitly (`inspect-run validate DIR…`, `engine.run(config_dirs=…)`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from engine._assets import conf_dir

ENV_VAR = CONFIG_PATH_VAR = "INSPECT_RUN_CONFIG_PATH"

_explicit: list[Path] = []


def user_config_dirs() -> list[Path]:
    """The user's config dirs, most important first, existing ones only, never the built-in."""
    candidates = [*_explicit]
    candidates += [Path(p) for p in os.environ.get(ENV_VAR, "").split(os.pathsep) if p]
    candidates.append(Path.cwd() / "conf")
    builtin = conf_dir().resolve()
    found: list[Path] = []
    for candidate in candidates:
        resolved = candidate.expanduser().resolve()
        if resolved.is_dir() and resolved != builtin and resolved not in found:
            found.append(resolved)
    return found


def missing_config_path() -> list[str]:
    """Entries of `INSPECT_RUN_CONFIG_PATH` that are not folders (a typo would hide a whole repo)."""
    entries = os.environ.get(ENV_VAR, "").split(os.pathsep)
    return [entry for entry in entries if entry and not Path(entry).expanduser().is_dir()]


def search_dirs() -> list[Path]:
    """Every config dir in lookup order: user dirs, then the built-in one."""
    return [*user_config_dirs(), conf_dir().resolve()]


@contextmanager
def extra_config_dirs(dirs: Sequence[str | Path]) -> Iterator[None]:
    """Search `dirs` first while composing inside this block."""
    saved = list(_explicit)
    _explicit[:0] = [Path(d) for d in dirs]
    try:
        yield
    finally:
        _explicit[:] = saved


def is_builtin_search_path(search_path: Any) -> bool:
    builtin = str(conf_dir().resolve())
    return any(
        str(element.path).removeprefix("file://") == builtin for element in search_path.get_path()
    )


def group_options(group: str) -> list[str]:
    """Options of a config group across all search dirs (e.g. task names), without Hydra."""
    names: set[str] = set()
    for directory in search_dirs():
        folder = directory / group
        if folder.is_dir():
            names.update(path.stem for path in folder.glob("*.yaml"))
    return sorted(names)


def find_group_file(group: str, option: str) -> Path | None:
    for directory in search_dirs():
        path = directory / group / f"{option}.yaml"
        if path.is_file():
            return path
    return None


def primary_config_file() -> Path:
    for directory in search_dirs():
        path = directory / "config.yaml"
        if path.is_file():
            return path
    return conf_dir() / "config.yaml"


def display_path(path: Path) -> str:
    """A path as a user reads it in an error: relative to the working directory when inside it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
