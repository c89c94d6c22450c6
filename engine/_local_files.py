"""The one rule for every local file a config or a dataset names: dataset files, `fields.images`,
image/audio/video content parts and `record_to_sample` hooks.

A name is relative and resolves inside one of the given folders (the task directories; a
record's media: the dataset file's folder): no `~` (never expanded), no absolute path, no `..` or
symlink that leads out, no hidden file or folder (`.env`, `.git/`), nothing under /proc, /sys or
/dev, only regular files. `dataset.allowed_roots` opts in extra folders, where absolute paths
are then accepted too. A dataset that is not a local file (the Hub) has no folder: it names
no local file at all.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path

from engine.errors import InspectRunError
from engine.messages import is_system_path

__all__ = ["LocalFileError", "allowed_roots", "find_local_file"]


class LocalFileError(InspectRunError, ValueError):
    """A name that points outside the allowed folders, or at something that is not a file."""


def allowed_roots(names: Sequence[str]) -> list[Path]:
    """`dataset.allowed_roots` as folders (the user's own config: `~` and relative paths,
    against the working directory, are fine here)."""
    return [Path(name).expanduser().resolve() for name in names]


def _inside(path: Path, roots: Sequence[Path]) -> Path | None:
    for root in roots:
        if path == root or path.is_relative_to(root):
            return root
    return None


def _hidden(parts: Sequence[str]) -> str | None:
    return next((p for p in parts if p.startswith(".") and p not in (".", "..")), None)


def _check_file(name: str, path: Path, root: Path, what: str) -> Path:
    hidden = _hidden(path.relative_to(root).parts)
    if hidden is not None:
        raise LocalFileError(f"{what} {name!r} is inside the hidden {hidden!r}; refused")
    if is_system_path(path):
        raise LocalFileError(f"{what} {name!r} is a system file ({path}); refused")
    try:
        mode = path.stat().st_mode
    except OSError as error:
        raise LocalFileError(f"{what} {name!r} cannot be read: {error.strerror}") from None
    if not stat.S_ISREG(mode):
        raise LocalFileError(f"{what} {name!r} is not a regular file; refused")
    return path


def find_local_file(
    name: str,
    folders: Sequence[Path],
    allowed: Sequence[Path] = (),
    what: str = "file",
    scope: str = "the task directories",
    opt_in: str | None = "dataset.allowed_roots",
) -> Path | None:
    """The resolved file `name` means: the first of `folders` that holds it, or an allowed
    root; None when no folder holds it. Raises `LocalFileError` for a name that leads out
    (`what` and `scope` word the error: `image path`, `the dataset's folder`; `opt_in`: the key
    that lists more folders, None where there is none)."""
    if not name or "\x00" in name:
        raise LocalFileError(f"{what} {name!r} is not a file name")
    if name.startswith("~"):
        raise LocalFileError(
            f"{what} {name!r} starts with '~', which is not expanded: give a path relative "
            f"to {scope}"
        )
    if "://" in name or name.lower().startswith("file:"):
        raise LocalFileError(f"{what} {name!r} is not an http(s) URL, data URI or relative path")
    hidden = _hidden(Path(name).parts)
    if hidden is not None:
        raise LocalFileError(f"{what} {name!r} is inside the hidden {hidden!r}; refused")
    allowed = [root.resolve() for root in allowed]
    if Path(name).is_absolute():
        path = Path(name).resolve()
        root = _inside(path, allowed)
        if root is None:
            extra = f" ({', '.join(map(str, allowed))})" if allowed else ""
            accepted = f"accepted only inside {opt_in}{extra}" if opt_in else "refused"
            raise LocalFileError(
                f"{what} {name!r} is outside {scope}: an absolute path is {accepted}; give a "
                f"path relative to {scope}"
            )
        return _check_file(name, path, root, what) if path.exists() else None
    for folder in folders:
        base = folder.resolve()
        path = (base / name).resolve()
        root = _inside(path, [base, *allowed])
        if root is None:
            lexical = Path(os.path.normpath(base / name))
            how = "is a symlink leading out of" if _inside(lexical, [base]) else "climbs out of"
            hint = f" (list other folders in {opt_in})" if opt_in else ""
            raise LocalFileError(f"{what} {name!r} is outside {scope}: it {how} {folder}{hint}")
        if path.exists() or path.is_symlink():
            return _check_file(name, path, root, what)
    return None
