"""Remember compositions within a process, keyed by the overrides and the config files' state.

Hydra re-reads, re-parses and re-merges every config file on each composition (~0.1 s even for a
small tree), and a process often composes the same thing again: `validate` then the run, a sweep's
problem check then its jobs, a library user's repeated `engine.run`, a test suite. A composition is
reused only while every folder and `.yaml` file on the search path is as it was: the key holds each
file's inode, size, mtime and ctime (ctime changes with any write and cannot be set back). File
times are coarser than a fast rewrite (same size, same tick), so, like git's "racy clean" rule, the
files that had changed within two seconds when a composition was remembered are also checked by
a digest of their content each time it is reused.

Hydra's own packaged configs and structured configs do not change within a process, so only the
search dirs are watched.
"""

from __future__ import annotations

import copy
import hashlib
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
_SIZE = 128
_RACY_SECONDS = 2.0

FileState = tuple[str, int, int, int, int]
"""(path relative to its search dir, inode, size, mtime_ns, ctime_ns); a folder: its path, zeros."""


@dataclass(frozen=True)
class _Entry:
    value: Any
    digests: dict[str, bytes | None]
    """Content digests of the files that were recent (racy) when it was remembered."""


_remembered: OrderedDict[tuple[Any, ...], _Entry] = OrderedDict()


def remembered(overrides: Sequence[str], dirs: Sequence[Path], compose: Callable[[], T]) -> T:
    """`compose()`'s result for these overrides over `dirs`, reused while the files are unchanged.

    The result is the caller's own copy: changing it changes nothing remembered."""
    states, recent = _search_path_state(dirs)
    key = (tuple(overrides), states)
    entry = _remembered.get(key)
    if entry is not None and all(_digest(p) == d for p, d in entry.digests.items()):
        _remembered.move_to_end(key)
        return copy.deepcopy(entry.value)
    digests = {path: _digest(path) for path in recent}
    found = compose()
    after, _ = _search_path_state(dirs)
    if after == states and all(_digest(p) == d for p, d in digests.items()):
        # not changed while Hydra was reading
        _remembered[key] = _Entry(copy.deepcopy(found), digests)
        while len(_remembered) > _SIZE:
            _remembered.popitem(last=False)
    return found


def forget() -> None:
    _remembered.clear()


def _digest(path: str) -> bytes | None:
    try:
        return hashlib.blake2b(Path(path).read_bytes()).digest()
    except OSError:
        return None


def _search_path_state(dirs: Sequence[Path]) -> tuple[tuple[Any, ...], list[str]]:
    """Every search dir's folders and `.yaml` files with their identity and times; the files
    changed within the racy window."""
    since = time.time() - _RACY_SECONDS
    states: list[tuple[str, tuple[FileState, ...]]] = []
    recent: list[str] = []
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
            found.append((os.path.relpath(folder, root), 0, 0, 0, 0))
            for name in sorted(f for f in files if f.endswith((".yaml", ".yml"))):
                path = os.path.join(folder, name)
                try:
                    stat = os.stat(path)
                except OSError:
                    continue
                if max(stat.st_mtime_ns, stat.st_ctime_ns) / 1e9 >= since:
                    recent.append(path)
                times = (stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
                found.append((os.path.relpath(path, root), *times))
        states.append((str(root), tuple(found)))
    return tuple(states), recent
