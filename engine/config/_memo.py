"""Remember Hydra compositions within a process, keyed by the overrides and the config files' state.

Hydra re-reads, re-parses and re-merges every config file on each composition (~0.1 s even for a
small tree), and a process often composes the same thing again: `validate` then the run, a sweep's
problem check then its jobs, a library user's repeated `engine.run`, a test suite. A composition is
reused only while every folder and `.yaml` file on the search path is unchanged: the key holds each
one's inode, size, mtime and ctime (ctime changes with any write and cannot be set back). Like git's
"racy clean" rule, a composition is not remembered when a file changed within the last two seconds,
because file times are coarser than a fast second write (same size, same tick) would need.

What is kept is the unresolved tree: interpolations (`${oc.env:…}`, `${now:…}`) are resolved anew
each time, so an environment change is seen even when the files are not. Hydra's own packaged
configs and structured configs do not change within a process; compositions inside a Hydra job
(where Hydra is already set up by the launcher) are not remembered.
"""

from __future__ import annotations

import copy
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SIZE = 128
_RACY_SECONDS = 2.0

FileState = tuple[str, int, int, int, int]
"""(path relative to its search dir, inode, size, mtime_ns, ctime_ns)"""


@dataclass(frozen=True)
class Composition:
    """What one Hydra composition yields, before interpolations are resolved."""

    unresolved: dict[str, Any]
    """The config with `${…}` references as written, the `hydra` node removed."""
    choices: dict[str, str | None]
    sweep_params: dict[str, str]
    launcher: dict[str, Any]


_remembered: OrderedDict[tuple[Any, ...], Composition] = OrderedDict()


def remembered(
    overrides: Sequence[str], dirs: Sequence[Path], compose: Callable[[], Composition]
) -> Composition:
    """`compose()`'s result for these overrides over `dirs`, reused while the files are unchanged.

    The result is the caller's own copy: changing it changes nothing remembered."""
    states, newest = _search_path_state(dirs)
    key = (tuple(overrides), states)
    found = _remembered.get(key)
    if found is None:
        found = compose()
        if newest < time.time() - _RACY_SECONDS:
            _remembered[key] = found
            while len(_remembered) > _SIZE:
                _remembered.popitem(last=False)
    else:
        _remembered.move_to_end(key)
    return copy.deepcopy(found)


def forget() -> None:
    _remembered.clear()


def _search_path_state(dirs: Sequence[Path]) -> tuple[tuple[Any, ...], float]:
    """Every search dir's folders and `.yaml` files with their identity and times; the newest
    change time among them (seconds since the epoch)."""
    states: list[tuple[str, tuple[FileState, ...]]] = []
    newest = 0.0
    for root in dirs:
        found: list[FileState] = []
        seen: set[str] = set()
        for folder, subfolders, files in os.walk(root, followlinks=True):
            real = os.path.realpath(folder)
            if real in seen:  # a symlink loop
                subfolders[:] = []
                continue
            seen.add(real)
            subfolders.sort()
            names = ["", *sorted(f for f in files if f.endswith((".yaml", ".yml")))]
            for name in names:
                path = os.path.join(folder, name) if name else folder
                try:
                    stat = os.stat(path)
                except OSError:
                    continue
                relative = os.path.relpath(path, root)
                found.append(
                    (relative, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
                )
                newest = max(newest, stat.st_mtime_ns / 1e9, stat.st_ctime_ns / 1e9)
        states.append((str(root), tuple(found)))
    return tuple(states), newest
