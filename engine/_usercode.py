"""Python files a user keeps beside their tasks: `record_to_sample` hooks, solvers, scorers,
metrics, reducers and mock-model reply functions.

A file is named relative to a task directory (`tasks/` beside each user config dir, then the
built-in `tasks/`). Code is loaded only from there: an absolute path or one that climbs out (`..`)
is refused, so a config value can never make the engine run an arbitrary file. Planning sets the
directories of the run (`code_dirs`); a file is executed once per process while it is unchanged.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from types import ModuleType

from engine.errors import InspectRunError

__all__ = ["UserCodeError", "code_dirs", "load_user_module", "split_reference", "using_code_dirs"]


class UserCodeError(InspectRunError, ValueError):
    """A user's file that cannot be found, lies outside the task directories, or fails to load."""


code_dirs: ContextVar[tuple[Path, ...]] = ContextVar("code_dirs", default=())
"""The task directories user code may load from, set while a run is planned."""


@contextmanager
def using_code_dirs(dirs: Sequence[Path]) -> Iterator[None]:
    token = code_dirs.set(tuple(dirs))
    try:
        yield
    finally:
        code_dirs.reset(token)


def split_reference(reference: str, what: str) -> tuple[str, str]:
    """`FILE.py:NAME` → (file, name); a reference without `:NAME` gives an empty name."""
    file, _, name = reference.partition(":")
    if not file.endswith(".py"):
        raise UserCodeError(f"{what} {reference!r}: expected FILE.py:NAME")
    return file, name


_LOADED: dict[Path, tuple[tuple[int, int], ModuleType]] = {}


def load_user_module(
    file: str,
    what: str,
    dirs: Sequence[Path] | None = None,
    allowed: Sequence[Path] | None = None,
) -> tuple[ModuleType, Path]:
    """Import `file` from the first task directory holding it (`dirs`, else `code_dirs`), found
    by the one rule for local files. `allowed`: a dataset's `allowed_roots` (hooks only;
    components have no such key)."""
    from engine._local_files import LocalFileError, find_local_file

    searched = list(code_dirs.get() if dirs is None else dirs)
    try:
        opt_in = "dataset.allowed_roots" if allowed is not None else None
        path = find_local_file(file, searched, allowed or (), f"{what}: file", opt_in=opt_in)
    except LocalFileError as error:
        raise UserCodeError(str(error)) from None
    if path is None:
        where = ", ".join(str(d) for d in searched) or "(none configured)"
        raise UserCodeError(f"{what}: file {file!r} not found in the task directories: {where}")
    return _module(path, what), path


def _module(path: Path, what: str) -> ModuleType:
    stat = path.stat()
    version = (stat.st_mtime_ns, stat.st_size)
    cached = _LOADED.get(path)
    if cached is not None and cached[0] == version:
        return cached[1]
    module_name = f"inspect_run_user_{hashlib.sha1(str(path).encode()).hexdigest()[:12]}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:  # pragma: no cover - a .py file always has a loader
        raise UserCodeError(f"{what}: cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        raise UserCodeError(f"{what}: {path} failed to load: {error!r}") from None
    _LOADED[path] = (version, module)
    return module
