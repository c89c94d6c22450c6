"""One owner per folder: an OS file lock (`flock`) that the kernel releases when its process ends.

A run folder (its log, sample journal and batch journal) and a sweep folder are each owned by one
process at a time; `log_dir` itself is locked for the moment a run finds or creates its folder. The lock is taken without waiting: a second process
gets `FolderBusy`, naming the owner (pid, host, command, since when) from the lock file, and
sends nothing. A process killed with -9 holds nothing: the next command takes the lock and resumes.
The lock file stays behind (it is never the lock itself that is stale, only its text).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
from pathlib import Path
from types import TracebackType

from engine.errors import InspectRunError
from engine.logs._writer import utc_now

LOCK_FILE = ".inspect-run.lock"
"""Held for as long as a process works in the folder."""


class FolderBusy(InspectRunError):
    """Another live process owns the folder; this one must not write there."""

    exit_status = 75  # EX_TEMPFAIL: this one sent nothing

    def __init__(self, folder: Path, owner: dict[str, object] | None) -> None:
        self.folder = folder
        self.owner = owner or {}
        super().__init__(self.render())

    def render(self) -> str:
        owner = self.owner
        if owner.get("pid"):
            who = f"process {owner['pid']} on {owner.get('host', '?')}"
            if owner.get("command"):
                who += f" ({owner['command']})"
            if owner.get("since"):
                who += f", since {owner['since']}"
        else:
            who = "another process"
        return (
            f"{self.folder} is in use by {who}; nothing was sent. Wait for it to end (or stop it): "
            "the same command then resumes or reuses its work"
        )


def _owner_text() -> str:
    command = " ".join(["inspect-run", *sys.argv[1:]]) if sys.argv else "inspect-run"
    owner = {"pid": os.getpid(), "host": socket.gethostname(), "command": command[:500]}
    return json.dumps({**owner, "since": utc_now()[:19] + "Z"})


class FolderLock:
    """An exclusive `flock` on `folder/name`; `release()` or the end of the process frees it.

    `wait=False` (owning a folder) raises `FolderBusy` at once; `wait=True` (the short claim step)
    waits for the other process. Two locks on one file conflict even within one process."""

    def __init__(self, folder: Path, name: str | None = LOCK_FILE, *, wait: bool = False) -> None:
        """`name` None locks the folder itself and leaves no file (the short claim step)."""
        self.folder = folder
        self.path = folder / name if name is not None else folder
        self.wait = wait
        self._fd: int | None = None

    def acquire(self) -> FolderLock:
        import fcntl

        self.folder.mkdir(parents=True, exist_ok=True)
        if self.path == self.folder:
            fd = os.open(self.folder, os.O_RDONLY | os.O_CLOEXEC)
        else:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if self.wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise FolderBusy(self.folder, read_owner(self.path)) from None
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        if self.path == self.folder:
            return self
        with contextlib.suppress(OSError):  # who owns it, for the next one's message
            text = _owner_text().encode()
            os.ftruncate(fd, 0)
            os.pwrite(fd, text, 0)
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the last descriptor releases the flock
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def read_owner(path: Path) -> dict[str, object] | None:
    try:
        owner = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return owner if isinstance(owner, dict) else None
