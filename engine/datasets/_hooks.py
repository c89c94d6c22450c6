"""`record_to_sample` hooks: a few lines of Python kept beside a task for odd record formats.

A hook is named `FILE.py[:FUNCTION]` relative to a task directory (the built-in `tasks/`, or
`tasks/` beside the user's config dirs). It is located and contained as every user file is (see
`engine._usercode`, by the one rule for local files): an absolute path or one that climbs out
(`..`) is refused, so a config value can never make the engine run arbitrary files.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from engine._usercode import UserCodeError, load_user_module, split_reference
from engine.errors import InspectRunError

Hook = Callable[[dict[str, Any]], Any]
DEFAULT_FUNCTION = "record_to_sample"


class HookError(InspectRunError, ValueError):
    """A hook that cannot be found, is outside the task directories, or fails to load."""


def load_hook(spec: str, task_dirs: Sequence[Path], allowed: Sequence[Path] = ()) -> Hook:
    what = f"record_to_sample {spec!r}"
    try:
        file, function = split_reference(spec, "record_to_sample")
        module, path = load_user_module(file, what, task_dirs, allowed)
    except UserCodeError as error:
        raise HookError(str(error)) from None
    name = function or DEFAULT_FUNCTION
    hook = getattr(module, name, None)
    if not callable(hook):
        raise HookError(f"{what}: {path} has no function {name!r}")
    found: Hook = hook
    return found
