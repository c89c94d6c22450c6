"""The Inspect log format (`inspect_ai.log.EvalLog`, as Inspect 0.3.285 reads it), built as plain
dicts from typed inputs: the header (`eval` spec and `plan`), each sample, the results, the
reductions, the stats and error records. Pure functions, so the runner, `score` and `merge` write
the same records and a format change has one home; the writers (`log_writer`) only store them.

Key order is part of the format here: the records are written in this order, byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "EvalHeader",
    "RoleModel",
    "ScoreSummary",
    "eval_error",
    "eval_header",
    "eval_reductions",
    "eval_results",
    "eval_sample",
    "eval_stats",
    "rescored_header",
]


def eval_error(message: str, traceback: str | None = None) -> dict[str, str]:
    """Inspect's `EvalError` (a failed sample, or a run's `error`): the traceback is the message
    when there is none (an error inspect-run decided, not an exception)."""
    trace = message if traceback is None else traceback
    return {"message": message, "traceback": trace, "traceback_ansi": trace}


@dataclass(frozen=True)
class RoleModel:
    """A model playing a role, as `eval.model_roles` records it."""

    model: str
    config: dict[str, Any]
    base_url: str | None
    args: dict[str, Any]


@dataclass(frozen=True)
class EvalHeader:
    """What a log's header says about the eval (Inspect's `EvalSpec`) and its solver `plan`."""

    eval_id: str
    run_id: str
    created: str
    task: str
    task_id: str
    task_description: str | None
    tags: list[str] | None
    dataset_location: str | None
    dataset_samples: int
    """Samples in the dataset (before `limit`, `sample_id` and sharding)."""
    sample_ids: list[Any]
    sample_shuffle: int | None
    """The seed the samples were shuffled with (None: not shuffled)."""
    model: str
    generate_config: dict[str, Any]
    model_base_url: str | None
    model_args: dict[str, Any]
    model_roles: dict[str, RoleModel]
    limit: Any
    sample_id: Any
    epochs: int
    epochs_reducer: list[str]
    fail_on_error: bool | int | float
    revision: dict[str, Any] | None
    packages: dict[str, str]
    metadata: dict[str, Any]
    solvers: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    """The plan's steps: (solver name, its arguments)."""


def eval_header(spec: EvalHeader) -> dict[str, Any]:
    """The header of a log: `{"eval": EvalSpec, "plan": EvalPlan}`."""
    roles = {
        name: {"model": r.model, "config": r.config, "base_url": r.base_url, "args": r.args}
        for name, r in spec.model_roles.items()
    }
    eval_spec: dict[str, Any] = {
        "eval_id": spec.eval_id,
        "run_id": spec.run_id,
        "created": spec.created,
        "task": spec.task,
        "task_id": spec.task_id,
        "task_version": 0,
        "task_description": spec.task_description or None,
        "tags": spec.tags or None,
        "dataset": {
            "name": spec.task,
            "location": spec.dataset_location,
            "samples": spec.dataset_samples,
            "sample_ids": spec.sample_ids,
            "shuffled": spec.sample_shuffle is not None,
        },
        "model": spec.model,
        "model_generate_config": spec.generate_config,
        "model_base_url": spec.model_base_url,
        "model_args": spec.model_args,
        "model_roles": roles or None,
        "config": {
            "limit": list(spec.limit) if isinstance(spec.limit, tuple) else spec.limit,
            "sample_id": spec.sample_id,
            "sample_shuffle": spec.sample_shuffle,
            "epochs": spec.epochs,
            "epochs_reducer": spec.epochs_reducer,
            "fail_on_error": spec.fail_on_error,
        },
        "revision": spec.revision,
        "packages": spec.packages,
        "metadata": spec.metadata,
    }
    steps = [{"solver": name, "params": args} for name, args in spec.solvers]
    return {
        "eval": eval_spec,
        "plan": {"name": "plan", "steps": steps, "config": spec.generate_config},
    }


def rescored_header(
    header: Mapping[str, Any],
    *,
    eval_id: str,
    created: str,
    inspect_run: dict[str, Any],
    model_roles: Mapping[str, tuple[str, dict[str, Any]]],
) -> dict[str, Any]:
    """The header of a log scored again (`inspect-run score`): the source's, with a new id and
    creation time, `metadata.inspect_run` replaced, and the roles that graded it this time
    (role → (model, its generation config))."""
    eval_spec = dict(header["eval"])
    eval_spec.update(
        eval_id=eval_id,
        created=created,
        metadata={**(eval_spec.get("metadata") or {}), "inspect_run": inspect_run},
        model_roles={
            role: {"model": model, "config": config}
            for role, (model, config) in model_roles.items()
        }
        or None,
    )
    return {"eval": eval_spec, "plan": header.get("plan") or {}}


def eval_sample(
    *,
    id: Any,
    epoch: int,
    input: Any,
    target: Any,
    messages: list[dict[str, Any]],
    output: dict[str, Any] | None,
    model: str,
    metadata: dict[str, Any],
    model_usage: dict[str, Any],
    role_usage: dict[str, Any],
    events: list[dict[str, Any]],
    started_at: str,
    completed_at: str,
    total_time: float,
    working_time: float,
    uuid: str,
    choices: list[str] | None = None,
    retries: list[dict[str, Any]] | None = None,
    scores: dict[str, Any] | None = None,
    error: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Inspect's `EvalSample`: scored (`scores`) or failed (`error`, with `completed` false).
    `output` None (the sample failed before an answer) logs an empty output of `model`; the working
    time never exceeds the total."""
    record: dict[str, Any] = {
        "id": id,
        "epoch": epoch,
        "input": input,
        "target": target,
        "messages": messages,
        "output": output if output is not None else {"model": model, "choices": []},
        "metadata": metadata,
        "store": {},
        "model_usage": model_usage,
        "role_usage": role_usage,
        "events": events,
        "attachments": {},
        "started_at": started_at,
        "completed_at": completed_at,
        "total_time": round(total_time, 6),
        "working_time": round(min(total_time, working_time), 6),
        "uuid": uuid,
        "completed": error is None,
    }
    if choices is not None:
        record["choices"] = choices
    if retries:
        record["error_retries"] = retries
    if error is None:
        record["scores"] = scores or {}
    else:
        record["error"] = error
    return record


@dataclass(frozen=True)
class ScoreSummary:
    """One scorer's results under one epoch reducer (Inspect's `EvalScore`)."""

    name: str
    scorer: str
    reducer: str
    params: dict[str, Any]
    scored_samples: int
    unscored_samples: int
    metrics: dict[str, float]
    """Metric name → value, in the task's order."""


def eval_results(
    total: int,
    errors: int,
    scores: Sequence[ScoreSummary],
    metadata: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Inspect's `EvalResults`; `metadata` (cache hits, batch ids) only when there is some."""
    results: dict[str, Any] = {
        "total_samples": total,
        "completed_samples": total - errors,
        "scores": [
            {
                "name": score.name,
                "scorer": score.scorer,
                "reducer": score.reducer,
                "params": score.params,
                "scored_samples": score.scored_samples,
                "unscored_samples": score.unscored_samples,
                "metrics": {
                    metric: {"name": metric, "value": value, "params": {}}
                    for metric, value in score.metrics.items()
                },
            }
            for score in scores
        ],
    }
    if metadata:
        results["metadata"] = dict(metadata)
    return results


def eval_reductions(
    reductions: Iterable[tuple[str, str, Iterable[tuple[Any, float]]]],
) -> list[dict[str, Any]]:
    """Inspect's `EvalSampleReductions`: per (scorer, reducer), each sample's reduced value as
    `(sample id, value)`. Each record's `samples` is made as it is read, once: a log writer
    streams it (`reductions_json`), so a reduction of 100,000 samples is never held as dicts."""
    return [
        {
            "scorer": scorer,
            "reducer": reducer,
            "samples": ({"value": value, "sample_id": sample_id} for sample_id, value in samples),
        }
        for scorer, reducer, samples in reductions
    ]


def eval_stats(
    started_at: str,
    completed_at: str,
    model_usage: dict[str, Any],
    limit_history: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Inspect's `EvalStats`, plus how adaptive connection limits moved (when they did)."""
    stats: dict[str, Any] = {
        "started_at": started_at,
        "completed_at": completed_at,
        "model_usage": model_usage,
    }
    if limit_history:
        stats["connection_limit_history"] = limit_history
    return stats
