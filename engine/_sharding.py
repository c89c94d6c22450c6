"""Which slice of the samples a process runs: `shard=I/N`, or the index a scheduler gives it.

Shards are 0-based (`0/3`, `1/3`, `2/3`), as Kubernetes' `JOB_COMPLETION_INDEX` is; a Slurm array
may start anywhere (`--array=1-3`): its index is counted from `SLURM_ARRAY_TASK_MIN` in steps of
`SLURM_ARRAY_TASK_STEP`. Shard I of N runs the selected samples (after `sample_id`, `shuffle` and
`limit`) at positions I, I+N, I+2N, …: the same on every machine and under resume, and balanced.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SHARD_KEYS = ("shard", "shards", "workers")
"""Config keys that split a job without changing what it answers (not part of its task id)."""


@dataclass(frozen=True)
class Shard:
    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> Shard:
    """`"I/N"` → Shard(I, N), with 0 <= I < N; a `ValueError` saying what was expected."""
    index, slash, count = str(text).partition("/")
    try:
        shard = Shard(int(index), int(count))
    except ValueError:
        shard = None
    if not slash or shard is None or shard.count < 1 or not 0 <= shard.index < shard.count:
        raise ValueError(
            f"expected I/N with 0 <= I < N (shards count from 0: 0/3, 1/3, 2/3), got {text!r}"
        )
    return shard


def config_shard(config: Any) -> Shard | None:
    """The shard a validated `RunConfig` runs (None: the whole eval)."""
    return parse_shard(config.shard) if config.shard is not None else None


def _integer(environ: Mapping[str, str], name: str, default: int | None = None) -> int | None:
    text = environ.get(name)
    if text is None or not text.strip():
        return default
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"${name}={text!r} is not an integer") from None


def env_shard(config: Any, environ: Mapping[str, str] | None = None) -> Shard | None:
    """The shard a Slurm array task or a Kubernetes Indexed Job pod runs, when `shard` is unset.

    Only a single run asks (a sweep's jobs never do: submitit runs a sweep as a Slurm array).
    `ValueError` when the environment gives an index but no count (set `shards=N`).
    """
    if config.shard is not None:
        return None
    env = os.environ if environ is None else environ
    task_id = _integer(env, "SLURM_ARRAY_TASK_ID")
    if task_id is not None:
        count = _integer(env, "SLURM_ARRAY_TASK_COUNT", config.shards)
        first = _integer(env, "SLURM_ARRAY_TASK_MIN", 0) or 0
        step = _integer(env, "SLURM_ARRAY_TASK_STEP", 1) or 1
        if count is None:
            raise ValueError(
                "$SLURM_ARRAY_TASK_ID is set but not $SLURM_ARRAY_TASK_COUNT: set shards=N"
            )
        return parse_shard(f"{(task_id - first) // step}/{count}")
    index = _integer(env, "JOB_COMPLETION_INDEX")
    if index is not None:
        if config.shards is None:
            raise ValueError(
                f"$JOB_COMPLETION_INDEX={index} (a Kubernetes Indexed Job) needs the shard count: "
                "set shards=N to the Job's completions"
            )
        return parse_shard(f"{index}/{config.shards}")
    return None


def job_config(resolved: dict[str, Any]) -> dict[str, Any]:
    """The resolved config without how it is split: what every shard of one job shares (the
    connection settings too: `workers=K` gives each worker its share of the connections)."""
    return {k: v for k, v in resolved.items() if k not in (*SHARD_KEYS, "connection")}
