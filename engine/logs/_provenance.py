"""Where a run came from: the config repo's git revision, package versions, the config's hash."""

from __future__ import annotations

import hashlib
import json
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

_PACKAGES = ("inspect-run", "hydra-core", "omegaconf", "pydantic", "anyio", "openai", "httpx2")


def config_hash(resolved: dict[str, Any]) -> str:
    """A stable hash of the resolved config (sorted keys, compact JSON)."""
    canonical = json.dumps(resolved, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def package_versions(extra: tuple[str, ...] = ()) -> dict[str, str]:
    versions = {}
    for name in (*_PACKAGES, *extra):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def _git(directory: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(directory), *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_revision(directory: Path) -> dict[str, Any] | None:
    """Commit and dirty flag of the git repo holding `directory` (Inspect's EvalRevision shape)."""
    commit = _git(directory, "rev-parse", "HEAD")
    if commit is None:
        return None
    status = _git(directory, "status", "--porcelain", "--untracked-files=no")
    origin = _strip_credentials(_git(directory, "remote", "get-url", "origin") or "")
    return {"type": "git", "origin": origin, "commit": commit, "dirty": bool(status)}


def _strip_credentials(url: str) -> str:
    """`https://user:token@host/repo` → `https://host/repo`: a remote URL may carry a token."""
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest.split("/", 1)[0]:
        return f"{scheme}://{rest.split('@', 1)[1]}"
    return url
