"""A sweep's jobs: where each writes, and whether its logs can be reused, resumed or must be rerun.

One sweep folder per sweep, stable across re-runs of the same command (so a re-run finds its logs):
`hydra.sweep.dir` if set, else `log_dir/sweep-NAME` for a `sweep=NAME` config, else
`log_dir/sweep-<hash of the command's overrides>`. Each job writes to `<task>/<model>[__key-value…]`
below it, named from what the sweep varies, with `/` and `:` made safe.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from engine._secrets import redact_tree
from engine.config import GROUPS, Composed, ConfigError, Problem, Sweep
from engine.logs import NOT_IDENTITY, config_hash, is_remote, read_run_file, redact
from engine.runner import identity_of, safe_name

MANIFEST = "sweep.json"
"""The sweep folder's list of jobs (what the comparison reads), not named like an eval log."""
REPLACED = ".replaced"
"""Where the logs of a job whose config changed are moved before it runs again."""

JobState = Literal["new", "reuse", "resume", "changed"]

_NOT_COMMAND = (*NOT_IDENTITY, "hydra")
"""Overrides that do not make another sweep (so they leave the sweep folder's name alone)."""


@dataclass
class Job:
    overrides: list[str]
    composed: Composed
    folder: Path
    identity: str
    state: JobState
    changes: list[str] = field(default_factory=list)
    """For a changed job: what differs from its logged run (`limit: 5 → 10`)."""

    @property
    def label(self) -> str:
        return " ".join(self.overrides)


def sweep_folder(sweep: Sweep) -> Path:
    for override in sweep.jobs[0]:
        key, _, value = override.partition("=")
        if key.lstrip("+") == "hydra.sweep.dir":
            return Path(value)
    if is_remote(sweep.first.config.log_dir):
        raise ConfigError(
            [
                Problem(
                    "log_dir",
                    "a sweep writes to a local log_dir (its jobs are reused and compared from "
                    "disk); a remote log_dir is for single runs: run the sweep locally, then copy "
                    "its folder",
                    sweep.first.locate("log_dir"),
                )
            ]
        )
    log_dir = Path(sweep.first.config.log_dir)
    if sweep.name:
        return log_dir / f"sweep-{safe_name(sweep.name)}"
    kept = sorted(
        {
            override
            for job in sweep.jobs
            for override in job
            if re.split(r"[./]", override.lstrip("+~").partition("=")[0])[0] not in _NOT_COMMAND
        }
    )
    return log_dir / f"sweep-{config_hash({'overrides': kept})[:8]}"


def _value(composed: Composed, key: str) -> Any:
    if key in GROUPS:
        return composed.choices.get(key)
    node: Any = composed.resolved
    for part in key.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _text(value: Any) -> str:
    if isinstance(value, dict) and "model" in value:
        return str(value["model"])
    if isinstance(value, list):
        return "+".join(_text(item) for item in value)
    return "none" if value is None else str(value)


def job_label(composed: Composed, swept: list[str]) -> str:
    """How the comparison names a job: the model, plus the other values the sweep varies."""
    extras = [
        f"{key.removeprefix('roles.')}={_text(_value(composed, key))}"
        for key in swept
        if key not in ("task", "model")
    ]
    model = composed.config.model or "none"
    return f"{model} [{', '.join(extras)}]" if extras else model


def job_folder(root: Path, composed: Composed, swept: list[str]) -> Path:
    """`<task>/<model>[__key-value…]` for the keys the sweep varies besides task and model."""
    config = composed.config
    parts = [safe_name(config.model or "none")]
    parts += [
        safe_name(f"{key}-{_text(_value(composed, key))}")
        for key in swept
        if key not in ("task", "model")
    ]
    return root / safe_name(config.task.name) / "__".join(parts)


def _flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(tree, dict):
        return {prefix: tree}
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def _changes(folder: Path, composed: Composed) -> list[str]:
    """Keys whose value differs from the config saved beside the earlier log."""
    import yaml

    try:
        before = yaml.safe_load((folder / "config.yaml").read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return ["(the earlier config could not be read)"]
    # Compared as saved: credentials masked on both sides (neither shown nor a change).
    old, new = _flatten(before), _flatten(redact_tree(composed.resolved))
    keys = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
    shown = [k for k in keys if k.split(".")[0] not in NOT_IDENTITY]
    return [f"{k}: {old.get(k)!r} → {new.get(k)!r}" for k in shown] or ["the dataset file changed"]


def classify(composed: Composed, root: Path, swept: list[str], overrides: list[str]) -> Job:
    """A job and what its folder already holds: nothing, a finished log of the same identity
    (reuse), an unfinished one (resume), or a log of another identity (changed)."""
    folder = job_folder(root, composed, swept)
    identity = identity_of(composed)
    record = read_run_file(folder)
    if record is None:
        return Job(overrides, composed, folder, identity, "new")
    if record.get("identity") == identity:
        finished = record.get("status") == "success"
        state: JobState = "reuse" if finished else "resume" if composed.config.resume else "new"
        return Job(overrides, composed, folder, identity, state)
    return Job(overrides, composed, folder, identity, "changed", _changes(folder, composed))


def set_aside(job: Job, root: Path) -> Path:
    """Move a changed job's earlier logs out of the way (kept, never deleted)."""
    record = read_run_file(job.folder) or {}
    old = str(record.get("identity", "old"))[:8]
    parent = root / REPLACED / job.folder.relative_to(root).parent
    target = parent / f"{job.folder.name}-{old}"
    copy = 1
    while target.exists():  # the same config set aside before (changed back and forth)
        copy += 1
        target = parent / f"{job.folder.name}-{old}-{copy}"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(job.folder), str(target))
    return target


def write_manifest(
    root: Path, swept: list[str], jobs: list[Job], budgets: Mapping[Path, list[str]] | None = None
) -> None:
    """The sweep's jobs for the processes a launcher starts; `budgets`: each job's share of the
    sweep's budget (`engine.sweeps._budget`) as overrides."""
    root.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, Any] = {
        "swept": swept,
        "jobs": [
            {
                "overrides": job.overrides,
                "folder": str(job.folder.relative_to(root)),
                "label": job_label(job.composed, swept),
                "budget": list((budgets or {}).get(job.folder, [])),
            }
            for job in jobs
        ],
    }
    temporary = root / f".{MANIFEST}.tmp"
    temporary.write_text(redact(json.dumps(manifest, indent=1)), encoding="utf-8")
    os.replace(temporary, root / MANIFEST)


def read_manifest(root: Path) -> dict[str, Any] | None:
    try:
        manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None
