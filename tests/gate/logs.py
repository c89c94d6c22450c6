"""Eval logs with known per-sample scores, written by our own log writer (as a run writes them)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from engine.logs._writer import LogWriter

Scores = Mapping[str, float | Sequence[float]]
"""Sample id → its score, or one score per epoch."""


def grade(value: float) -> str:
    return "C" if value == 1 else "I" if value == 0 else str(value)


def write_log(
    folder: Path,
    scores: Scores,
    *,
    task: str = "quiz",
    model: str = "openai/m",
    errors: Sequence[str] = (),
    votes: Mapping[str, Sequence[str]] | None = None,
    graders: Sequence[str] = ("openai/g1", "openai/g2"),
    metadata: Mapping[str, Mapping[str, Any]] | None = None,
    fields: Mapping[str, str] | None = None,
    answers: Mapping[str, Sequence[str]] | None = None,
    latency: float = 0.5,
    usage: Mapping[str, int] | None = None,
) -> Path:
    """One finished log under `folder`; `votes` (sample id → each grader's grade) make the score
    a panel's majority, as model_graded_fact records it."""
    path = folder / f"2026-01-01T00-00-00+00-00_{task}_{model.replace('/', '-')}.json"
    config = {"task": {"name": task, "dataset": {"path": "x.jsonl", "fields": dict(fields or {})}}}
    header = {
        "eval": {
            "task": task,
            "task_id": task,
            "run_id": "r",
            "created": "2026-01-01T00:00:00+00:00",
            "dataset": {"name": task},
            "model": model,
            "config": {},
            "metadata": {"inspect_run": {"config": config, "roles": {}}},
        },
        "plan": {"name": "plan", "steps": []},
    }
    writer = LogWriter(path, header)
    writer.start()
    values: list[float] = []
    for sample_id, score in scores.items():
        epochs = [score] if isinstance(score, int | float) else list(score)
        for epoch, value in enumerate(epochs, start=1):
            answer = (answers or {}).get(sample_id, [f"answer {epoch}"] * len(epochs))[epoch - 1]
            record: dict[str, Any] = {
                "id": sample_id,
                "epoch": epoch,
                "input": f"question {sample_id}",
                "target": "A",
                "messages": [],
                "output": {"model": model, "choices": [{"message": {"content": answer}}]},
                "metadata": dict((metadata or {}).get(sample_id, {})),
                "total_time": latency,
                "model_usage": {model: {"input_tokens": 10, "output_tokens": 5, "total_tokens": 15}}
                if usage is None
                else {model: dict(usage)},
            }
            score_log: dict[str, Any] = {"value": grade(value), "answer": answer}
            if votes and sample_id in votes:
                score_log["metadata"] = {
                    "votes": [
                        {"value": v, "grader_model": g}
                        for v, g in zip(votes[sample_id], graders, strict=True)
                    ]
                }
            record["scores"] = {"match": score_log}
            writer.write_sample(record)
            values.append(value)
    for sample_id in errors:
        writer.write_sample(
            {"id": sample_id, "epoch": 1, "input": "q", "target": "A", "messages": [],
             "output": {"choices": []}, "error": {"message": "boom"}, "metadata": {}}
        )  # fmt: skip
    accuracy = sum(values) / len(values) if values else 0.0
    results = {
        "total_samples": len(values) + len(errors),
        "completed_samples": len(values),
        "scores": [
            {"name": "match", "scorer": "match",
             "metrics": {"accuracy": {"name": "accuracy", "value": accuracy}}}
        ],
    }  # fmt: skip
    writer.finish("success", results, {"started_at": "2026-01-01T00:00:00+00:00",
                                       "completed_at": "2026-01-01T00:01:00+00:00"})  # fmt: skip
    return path


def right(ids: Sequence[str], wrong: set[str]) -> dict[str, float]:
    """Scores 1 for every id except those in `wrong`."""
    return {i: 0.0 if i in wrong else 1.0 for i in ids}


def ids(n: int) -> list[str]:
    return [f"q{i:02d}" for i in range(1, n + 1)]
