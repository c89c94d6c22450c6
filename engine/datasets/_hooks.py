"""`record_to_sample` hooks: a few lines of Python kept beside a task for odd record formats.

A hook is named `FILE.py[:FUNCTION]` relative to a task directory (the built-in `tasks/`, or
`tasks/` beside the user's config dirs). Code is loaded only from there (by the one rule for local
files, `engine.datasets._local`): an absolute path or one that climbs out (`..`) is refused, so a
config value can never make the engine run arbitrary files.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from engine.datasets._local import LocalFileError, find_local_file

Hook = Callable[[dict[str, Any]], Any]
DEFAULT_FUNCTION = "record_to_sample"


class HookError(ValueError):
    """A hook that cannot be found, is outside the task directories, or fails to load."""


def load_hook(spec: str, task_dirs: Sequence[Path], allowed: Sequence[Path] = ()) -> Hook:
    file, _, function = spec.partition(":")
    function = function or DEFAULT_FUNCTION
    if not file.endswith(".py"):
        raise HookError(f"record_to_sample {spec!r}: expected FILE.py[:FUNCTION]")
    try:
        path = find_local_file(file, task_dirs, allowed, "record_to_sample file")
    except LocalFileError as error:
        raise HookError(f"record_to_sample {spec!r}: {error}") from None
    if path is not None:
        return _function(path, function, spec)
    searched = ", ".join(str(d) for d in task_dirs)
    raise HookError(f"record_to_sample file {file!r} not found in the task directories: {searched}")


def _function(path: Path, name: str, spec: str) -> Hook:
    module_name = f"inspect_run_hook_{hashlib.sha1(str(path).encode()).hexdigest()[:12]}"
    loader_spec = importlib.util.spec_from_file_location(module_name, path)
    if loader_spec is None or loader_spec.loader is None:
        raise HookError(f"record_to_sample {spec!r}: cannot load {path}")
    module = importlib.util.module_from_spec(loader_spec)
    try:
        loader_spec.loader.exec_module(module)
    except Exception as error:
        raise HookError(f"record_to_sample {spec!r}: {path} failed to load: {error!r}") from None
    function = getattr(module, name, None)
    if not callable(function):
        raise HookError(f"record_to_sample {spec!r}: {path} has no function {name!r}")
    hook: Hook = function
    return hook
