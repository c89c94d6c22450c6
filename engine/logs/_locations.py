"""Output folders are checked while planning, so an unusable one is a config error before any
request rather than a traceback after the first answers."""

from __future__ import annotations

import os
from pathlib import Path

KERNEL_FILE_SYSTEMS = (Path("/proc"), Path("/sys"), Path("/dev"))
"""Virtual file systems: writing there fails or, worse, changes the kernel's settings."""


def unusable_folder(folder: Path) -> str | None:
    """Why `folder` cannot hold output files (None when it can, or can be created).

    Nothing is created: the nearest existing folder must be a writable folder, and no part of the
    path a file. (Root may write where `chmod` forbids it; a kernel file system stops even root.)
    """
    path = Path(os.path.abspath(folder.expanduser()))
    for system in KERNEL_FILE_SYSTEMS:
        if path == system or system in path.parents:
            return f"{folder} is under {system}, a kernel file system that cannot hold files"
    for part in [path, *path.parents]:
        if part.exists():
            if not part.is_dir():
                return f"{part} is a file, not a folder"
            if not os.access(part, os.W_OK | os.X_OK):
                return f"{part} is not writable"
            return None
    return None
