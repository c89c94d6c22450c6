"""Log dirs on object storage (`s3://`, `gs://`, `az://`, any fsspec URL), as Inspect allows.

Object stores cannot append, so a run never writes there directly. It writes into a local staging
folder that mirrors the remote log dir (`INSPECT_RUN_STAGING_DIR/<hash of the URL>`, default under
`~/.cache/inspect-run/remote-logs/`), with the journal, resume and log rules of a local log dir,
and the run folder is uploaded:

- when the run starts (config, overrides, the `started` log, `run.state`);
- at most every `PUSH_INTERVAL` seconds while samples are scored (the journal: a machine lost
  mid-run loses at most that much);
- when it ends (the finished log, then `run.state` last, so `success` is never seen before the
  log it vouches for).

Every file is uploaded as one object PUT, which S3, GCS and Azure Blob make atomic: a reader sees
the old or the new object, never part of one. Before a run, each unfinished run under the URL
(`run.state` says started, cancelled or error) that staging lacks is downloaded into it, so the same
command resumes on another machine too.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import Any

from engine._remote_urls import is_remote, remote_problem
from engine.errors import InspectRunError

__all__ = [
    "PUSH_INTERVAL",
    "RemoteLogDir",
    "RemoteLogError",
    "is_remote",
    "remote_problem",
]

PUSH_INTERVAL = 10.0
"""Seconds between journal uploads while a run scores samples."""


class RemoteLogError(InspectRunError):
    """An upload or download of the remote log dir failed; the local staging copy is intact."""


def staging_root() -> Path:
    configured = os.environ.get("INSPECT_RUN_STAGING_DIR")
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / (
        "inspect-run/remote-logs"
    )


class RemoteLogDir:
    """A remote log dir and its local staging mirror (one per URL)."""

    def __init__(self, url: str) -> None:
        from fsspec.core import url_to_fs

        self.url = url.rstrip("/")
        self.fs: Any
        self.fs, self.root = url_to_fs(self.url)
        self.root = self.root.rstrip("/")
        digest = hashlib.sha256(self.url.encode()).hexdigest()[:16]
        self.staging = staging_root() / digest
        self._next_push = 0.0

    def url_of(self, local: Path) -> str:
        """The remote URL of a path inside staging."""
        relative = local.resolve().relative_to(self.staging.resolve()).as_posix()
        return f"{self.url}/{relative}" if relative != "." else self.url

    def _remote_path(self, local: Path) -> str:
        relative = local.resolve().relative_to(self.staging.resolve()).as_posix()
        return f"{self.root}/{relative}"

    def pull_unfinished(self) -> None:
        """Download each unfinished run staging lacks (its state, journals, config, log)."""
        import json

        from engine.logs._resume import RESUMABLE, RUN_FILE

        self.staging.mkdir(parents=True, exist_ok=True)
        try:
            states = self.fs.glob(f"{self.root}/**/{RUN_FILE}")
        except FileNotFoundError:
            return
        except Exception as error:
            raise RemoteLogError(f"cannot list {self.url}: {error}") from error
        for state in states:
            folder = str(state).rsplit("/", 1)[0]
            local = self.staging / folder[len(self.root) :].lstrip("/")
            if (local / RUN_FILE).exists():
                continue
            try:
                record = json.loads(self.fs.cat_file(state))
            except (OSError, ValueError):
                continue
            if record.get("status") not in RESUMABLE:
                continue
            local.mkdir(parents=True, exist_ok=True)
            for remote in self.fs.ls(folder, detail=False):
                name = str(remote).rsplit("/", 1)[-1]
                if self.fs.isfile(remote) and not (local / name).exists():
                    self.fs.get_file(remote, str(local / name))

    def push(self, folder: Path) -> None:
        """Upload every file of a run folder, `run.state` last (one atomic PUT each), and remove
        the remote files the folder no longer has."""
        from engine.logs._resume import RUN_FILE

        files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
        files.sort(key=lambda path: path.name == RUN_FILE)
        path = folder
        try:
            for path in files:
                self.fs.put_file(str(path), self._remote_path(path))
            # Gone locally, gone remotely: the journal a successful run removes.
            remote_folder = self._remote_path(folder)
            kept = {self._remote_path(p) for p in files}
            for remote in self.fs.ls(remote_folder, detail=False):
                if str(remote) not in kept and self.fs.isfile(remote):
                    self.fs.rm_file(remote)
        except Exception as error:
            raise RemoteLogError(
                f"cannot upload {path.name} to {self.url_of(path)}: {error} "
                f"(the run is kept in {folder})"
            ) from error
        self._next_push = time.monotonic() + PUSH_INTERVAL

    def due(self) -> bool:
        """True once per `PUSH_INTERVAL`: the caller uploads the journal then."""
        now = time.monotonic()
        if now < self._next_push:
            return False
        self._next_push = now + PUSH_INTERVAL
        return True
