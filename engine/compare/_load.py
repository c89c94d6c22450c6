"""Read eval logs (`.eval` or JSON, as inspect-run writes them) into what a comparison needs."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import InspectRunError
from engine.logs import (
    eval_seconds,
    find_log_files,
    iter_log_samples,
    read_log_header,
)
from engine.scorers import value_to_float

SampleKey = tuple[str, int]
"""(sample id, epoch)."""


@dataclass
class RunRecord:
    """One task × model log, reduced to per-sample numbers (and answers, for disagreements)."""

    path: Path
    task: str
    model: str
    status: str
    roles: dict[str, Any]
    scorer: str
    scores: dict[SampleKey, float]
    errors: int
    latencies: list[float]
    usage: dict[str, dict[str, int]]
    duration: float
    prices: dict[str, Any]
    batched: frozenset[str] = frozenset()
    """The models whose requests went through provider batch APIs (the log's batch ids by model;
    under `batch=on` a provider without a batch API answers at full price): batch prices apply."""
    answers: dict[SampleKey, str] = field(default_factory=dict)
    inputs: dict[SampleKey, str] = field(default_factory=dict)
    targets: dict[SampleKey, str] = field(default_factory=dict)
    label: str = ""
    """How the comparison names this run (the model, plus roles where models repeat)."""
    metrics: dict[str, float] = field(default_factory=dict)
    """The log's own metrics: `accuracy` (first scorer's) and `SCORER.accuracy`."""
    sample_metadata: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Each sample's metadata (by sample id), where the cluster and human-grade fields live."""
    cluster_field: str | None = None
    """`task.dataset.fields.cluster` of the run's config: the metadata key naming a sample's
    cluster (questions about one passage are not independent)."""
    human_field: str | None = None
    """`task.dataset.fields.human_grade`: the metadata key holding a person's grade."""
    votes: dict[SampleKey, list[tuple[str, str]]] = field(default_factory=dict)
    """Each grader's grade (grader, value), in panel order, from the score's metadata."""

    @property
    def samples(self) -> int:
        return len(self.scores) + self.errors

    def clusters(self, field_name: str | None = None) -> dict[str, str] | None:
        """Sample id → cluster, from `field_name` (else the run's own cluster field); None when
        there is no cluster field. A sample without a value is a cluster of its own."""
        name = field_name or self.cluster_field
        if not name:
            return None
        return {
            sample_id: str(meta[name]) if meta.get(name) is not None else f"\0{sample_id}"
            for sample_id, meta in self.sample_metadata.items()
        }

    def human_grades(self, field_name: str | None = None) -> dict[str, str]:
        """Sample id → the person's grade, where the dataset has one."""
        name = field_name or self.human_field
        if not name:
            return {}
        return {
            sample_id: str(meta[name]).strip()
            for sample_id, meta in self.sample_metadata.items()
            if meta.get(name) not in (None, "")
        }


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):  # messages or content parts
        parts = [_text(item.get("content", item.get("text", ""))) for item in value]
        return "\n".join(p for p in parts if p)
    return "" if value is None else str(value)


def _votes(score: dict[str, Any]) -> list[tuple[str, str]]:
    """The graders' grades behind a model-graded score: a panel's `votes`, else the one grader."""
    metadata = score.get("metadata") or {}
    votes = metadata.get("votes")
    if isinstance(votes, list):
        return [(str(v.get("grader_model", "?")), str(v.get("value"))) for v in votes]
    if "grader_model" in metadata:
        return [(str(metadata["grader_model"]), str(score.get("value")))]
    return []


class UnreadableLog(InspectRunError, ValueError):
    """A file found as an eval log that is not one inspect-run can read (the message names it)."""


def read_run(path: Path) -> RunRecord:
    """The run in the eval log at `path`; `UnreadableLog` (naming the file) if it is not one."""
    try:
        return _read_run(path)
    except (
        OSError,
        ValueError,
        TypeError,
        KeyError,
        AttributeError,
        IndexError,
        zipfile.BadZipFile,
    ) as error:
        raise UnreadableLog(
            f"{path}: not an eval log inspect-run can read ({type(error).__name__}: {error})"
        ) from error


def _read_run(path: Path) -> RunRecord:
    log = read_log_header(path)
    spec = log.get("eval", {})
    results = log.get("results") or {}
    # The scorer's own name: with several epoch reducers a score is named `match_mean`, …, while
    # the samples are scored under `match`.
    scorers = [s.get("scorer") or s.get("name") for s in results.get("scores", [])]
    scorers = [name for name in scorers if name]
    inspect_run = (spec.get("metadata") or {}).get("inspect_run") or {}
    record = RunRecord(
        path=path,
        task=spec.get("task", "?"),
        model=spec.get("model", "?"),
        status=log.get("status", "?"),
        roles=inspect_run.get("roles") or {},
        scorer=scorers[0] if scorers else "",
        scores={},
        errors=0,
        latencies=[],
        usage=(log.get("stats") or {}).get("model_usage") or {},
        duration=eval_seconds(log.get("stats") or {}),
        prices=(inspect_run.get("config") or {}).get("prices") or {},
        batched=frozenset(((results.get("metadata") or {}).get("batches") or {}).keys()),
    )
    fields = (((inspect_run.get("config") or {}).get("task") or {}).get("dataset") or {}).get(
        "fields"
    ) or {}
    record.cluster_field = fields.get("cluster")
    record.human_field = fields.get("human_grade")
    for score in results.get("scores", []):
        for metric in (score.get("metrics") or {}).values():
            value = metric.get("value")
            if isinstance(value, int | float):
                record.metrics.setdefault(str(metric.get("name")), float(value))
                record.metrics[f"{score.get('name')}.{metric.get('name')}"] = float(value)
    usage_by_samples: dict[str, dict[str, int]] = {}
    for sample in iter_log_samples(path):
        for model, used in (sample.get("model_usage") or {}).items():
            total = usage_by_samples.setdefault(model, {})
            for name, value in used.items():
                total[name] = total.get(name, 0) + int(value or 0)
        key = (str(sample.get("id")), int(sample.get("epoch", 1)))
        record.sample_metadata.setdefault(key[0], sample.get("metadata") or {})
        if sample.get("error"):
            record.errors += 1
            continue
        scores = sample.get("scores") or {}
        name = record.scorer or next(iter(scores), "")
        record.scorer = name
        if name not in scores:
            continue
        record.scores[key] = value_to_float(scores[name].get("value"))
        votes = _votes(scores[name])
        if votes:
            record.votes[key] = votes
        record.latencies.append(float(sample.get("total_time") or 0.0))
        choices = (sample.get("output") or {}).get("choices") or []
        record.answers[key] = _text(choices[0]["message"].get("content")) if choices else ""
        record.inputs[key] = _text(sample.get("input"))
        record.targets[key] = _text(sample.get("target"))
    if not record.usage:
        record.usage = usage_by_samples
    return record


def find_logs(paths: list[Path]) -> list[Path]:
    """Eval logs under `paths`, each whole set of shard logs of one job merged into one log (in
    a temporary folder; a merged log of that job found beside them is used instead)."""
    from engine.shards import merge_shard_sets

    return merge_shard_sets(find_log_files(paths))
