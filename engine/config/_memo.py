"""Remember compositions within a process, keyed by the overrides and the state of the files they
were composed from.

Hydra re-reads, re-parses and re-merges every config file on each composition (~0.1 s even for a
small tree), and a process often composes the same thing again: `validate` then the run, a sweep's
problem check then its jobs, a library user's repeated `engine.run`, a test suite.

A composition is reused while nothing it depends on has changed:
- the folders on the search path (a new folder can turn a key into a config group);
- each file it read (`reads`, relative paths such as `task/arc.yaml`), as found now: the first
  search dir that holds it, with its inode, size, mtime and ctime (ctime changes with any write and
  cannot be set back). A file added in a user dir that shadows one it read changes it too; a file
  it never read (another task) does not. When `reads` cannot tell, every file counts.

File times are coarser than a fast rewrite (same size, same tick), so, like git's "racy clean"
rule, the files that had changed within two seconds when a composition was remembered are also
checked by a digest of their content each time it is reused.

Hydra's own packaged configs and structured configs do not change within a process, so only the
search dirs are watched.
"""

from __future__ import annotations

import copy
import hashlib
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
_KEYS = 128
_PER_KEY = 8
_RACY_SECONDS = 2.0

FileState = tuple[str, int, int, int, int]
"""(the file that provides a relative path: the first search dir's, inode, size, mtime_ns,
ctime_ns)."""


@dataclass(frozen=True)
class _SearchPath:
    """What the search dirs hold now."""

    folders: frozenset[str]
    """Every folder, relative to its search dir, over all of them."""
    files: dict[str, FileState] = field(default_factory=dict)
    """Each `.yaml` relative path and the file that provides it (the first dir's)."""
    recent: frozenset[str] = frozenset()
    """The providing files changed within the racy window."""


@dataclass(frozen=True)
class _Entry:
    value: Any
    depends: tuple[tuple[str, FileState | None], ...]
    """Each file it read and what provided it (None: no search dir held it)."""
    every_file: frozenset[str] | None
    """When it could not tell what it read: every relative path there was (a new one counts)."""
    digests: dict[str, bytes | None]
    """Content digests of the providing files that were recent when it was remembered."""

    def holds(self, now: _SearchPath) -> bool:
        if self.every_file is not None and self.every_file != frozenset(now.files):
            return False
        return all(now.files.get(path) == state for path, state in self.depends) and all(
            _digest(path) == digest for path, digest in self.digests.items()
        )


_remembered: OrderedDict[tuple[Any, ...], list[_Entry]] = OrderedDict()


def remembered(
    overrides: Sequence[str],
    dirs: Sequence[Path],
    compose: Callable[[], T],
    reads: Callable[[T], Collection[str] | None],
) -> T:
    """`compose()`'s result for these overrides over `dirs`, reused while what it depends on is
    unchanged; `reads(result)`: the relative paths of the files it was composed from, None when
    that cannot be told.

    The result is the caller's own copy: changing it changes nothing remembered."""
    before = _search_path(dirs)
    key = (tuple(overrides), before.folders)
    entries = _remembered.get(key, [])
    for entry in entries:
        if entry.holds(before):
            _remembered.move_to_end(key)
            return copy.deepcopy(entry.value)
    recent_digests = {path: _digest(path) for path in before.recent}
    found = compose()
    read = reads(found)
    paths = sorted(before.files if read is None else set(read))
    depends = tuple((path, before.files.get(path)) for path in paths)
    digests = {s[0]: recent_digests[s[0]] for _, s in depends if s and s[0] in recent_digests}
    every_file = frozenset(before.files) if read is None else None
    entry = _Entry(copy.deepcopy(found), depends, every_file, digests)
    after = _search_path(dirs)
    if after.folders == before.folders and entry.holds(after):  # unchanged while Hydra read
        _remembered[key] = [entry, *entries][:_PER_KEY]
        _remembered.move_to_end(key)
        while len(_remembered) > _KEYS:
            _remembered.popitem(last=False)
    return found


def forget() -> None:
    _remembered.clear()


def _digest(path: str) -> bytes | None:
    try:
        return hashlib.blake2b(Path(path).read_bytes()).digest()
    except OSError:
        return None


def _search_path(dirs: Sequence[Path]) -> _SearchPath:
    """Every search dir's folders and `.yaml` files, the first dir's file for each relative path."""
    since = time.time() - _RACY_SECONDS
    folders: set[str] = set()
    files: dict[str, FileState] = {}
    recent: set[str] = set()
    for root in dirs:
        seen: set[str] = set()
        for folder, subfolders, names in os.walk(root, followlinks=True):
            real = os.path.realpath(folder)
            if real in seen:  # a symlink loop
                subfolders[:] = []
                continue
            seen.add(real)
            relative_folder = os.path.relpath(folder, root)
            folders.add(relative_folder)
            for name in names:
                if not name.endswith((".yaml", ".yml")):
                    continue
                relative = os.path.normpath(os.path.join(relative_folder, name))
                if relative in files:  # an earlier search dir provides it
                    continue
                path = os.path.join(folder, name)
                try:
                    stat = os.stat(path)
                except OSError:
                    continue
                if max(stat.st_mtime_ns, stat.st_ctime_ns) / 1e9 >= since:
                    recent.add(path)
                files[relative] = (
                    path,
                    stat.st_ino,
                    stat.st_size,
                    stat.st_mtime_ns,
                    stat.st_ctime_ns,
                )
    return _SearchPath(frozenset(folders), files, frozenset(recent))
