"""Remember compositions within a process, keyed by the overrides and the content of the files they
were composed from.

Hydra re-reads and re-merges every config file on each composition (~0.1 s even for a small tree,
with the YAML parses remembered by `_hydra`), and a process often composes the same thing again:
`validate` then the run, a sweep's problem check then its jobs, a library user's repeated
`engine.run`, a test suite.

A composition is reused while nothing it depends on has changed:
- the folders on the search path (a new folder can turn a key into a config group);
- each file it read (`reads`, relative paths such as `task/arc.yaml`), as found now: the content of
  the first search dir's file that holds it, or that none does. A file added in a user dir that
  shadows one it read changes it; a file it never read (another task) does not. When `reads`
  cannot tell, every file counts.

Content, not file times: times are coarser than a fast rewrite (same size, same tick), and the same
files written again (a checkout, a copy of the repo in another folder) compose the same. A lookup
reads the dozen small files a composition depends on, against ~0.1 s for composing.

Hydra's own packaged configs and structured configs do not change within a process, so only the
search dirs are watched.
"""

from __future__ import annotations

import copy
import hashlib
import os
from collections import OrderedDict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
_KEYS = 128
_PER_KEY = 8
_UNREADABLE = b"unreadable"


@dataclass(frozen=True)
class _SearchPath:
    """What the search dirs hold now."""

    folders: frozenset[str]
    """Every folder, relative to its search dir, over all of them."""
    files: dict[str, str]
    """Each `.yaml` relative path and the file that provides it (the first dir's)."""


class _Contents:
    """Content digests of files, each file read once per lookup."""

    def __init__(self) -> None:
        self._known: dict[str, bytes] = {}

    def __call__(self, path: str | None) -> bytes | None:
        """The digest of `path`'s content; None for no file."""
        if path is None:
            return None
        if path not in self._known:
            try:
                self._known[path] = hashlib.blake2b(Path(path).read_bytes()).digest()
            except OSError:
                self._known[path] = _UNREADABLE
        return self._known[path]


@dataclass(frozen=True)
class _Entry:
    value: Any
    depends: tuple[tuple[str, bytes | None], ...]
    """Each file it read and the digest of what provided it (None: no search dir held it)."""
    every_file: frozenset[str] | None
    """When it could not tell what it read: every relative path there was (a new one counts)."""

    def holds(self, now: _SearchPath, content: _Contents) -> bool:
        if self.every_file is not None and self.every_file != frozenset(now.files):
            return False
        return all(content(now.files.get(path)) == digest for path, digest in self.depends)


_remembered: OrderedDict[tuple[Any, ...], list[_Entry]] = OrderedDict()


def remembered(
    overrides: Sequence[str],
    dirs: Sequence[Path],
    compose: Callable[[], T],
    reads: Callable[[T], Collection[str] | None],
    keep: Callable[[T], bool] = lambda _: True,
) -> T:
    """`compose()`'s result for these overrides over `dirs`, reused while what it depends on is
    unchanged; `reads(result)`: the relative paths of the files it was composed from, None when
    that cannot be told; `keep(result)`: False for a result that depends on more than the files
    (it is composed anew each time).

    The result is the caller's own copy: changing it changes nothing remembered."""
    before = _search_path(dirs)
    key = (tuple(overrides), before.folders)
    entries = _remembered.get(key, [])
    content = _Contents()
    for entry in entries:
        if entry.holds(before, content):
            _remembered.move_to_end(key)
            return copy.deepcopy(entry.value)
    for path in before.files.values():  # what Hydra is about to read, to tell if it changes
        content(path)
    found = compose()
    if not keep(found):
        return found
    read = reads(found)
    paths = sorted(before.files if read is None else set(read))
    depends = tuple((path, content(before.files.get(path))) for path in paths)
    every_file = frozenset(before.files) if read is None else None
    entry = _Entry(copy.deepcopy(found), depends, every_file)
    after = _search_path(dirs)
    if after.folders == before.folders and entry.holds(after, _Contents()):  # unchanged meanwhile
        _remembered[key] = [entry, *entries][:_PER_KEY]
        _remembered.move_to_end(key)
        while len(_remembered) > _KEYS:
            _remembered.popitem(last=False)
    return found


def forget() -> None:
    _remembered.clear()


def _search_path(dirs: Sequence[Path]) -> _SearchPath:
    """Every search dir's folders and `.yaml` files, the first dir's file for each relative path."""
    folders: set[str] = set()
    files: dict[str, str] = {}
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
                relative = os.path.normpath(os.path.join(relative_folder, name))
                path = os.path.join(folder, name)
                # An earlier search dir's file wins; what is not a file (a broken link) is not
                # there for Hydra either.
                if (
                    name.endswith((".yaml", ".yml"))
                    and relative not in files
                    and os.path.isfile(path)
                ):
                    files[relative] = path
    return _SearchPath(frozenset(folders), files)
