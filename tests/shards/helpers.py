"""What the shard tests share: the quiz task in a folder, and a log read back as comparable data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.logs import LOG_SUFFIXES, read_log


def logs_under(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.rglob("*") if p.suffix in LOG_SUFFIXES and not p.name.startswith(".")
    )


def content(path: Path) -> dict[str, Any]:
    """What must be equal between a merged log and an unsharded run: sample ids and epochs, each
    sample's scores and answer, the metrics, the usage and the status."""
    log = read_log(path)
    samples = {
        (str(s["id"]), s["epoch"]): (
            {name: score["value"] for name, score in (s.get("scores") or {}).items()},
            s["output"]["choices"][0]["message"]["content"],
        )
        for s in log["samples"]
    }
    assert len(samples) == len(log["samples"]), "a sample appears twice"
    metrics = {
        score["name"]: {name: m["value"] for name, m in score["metrics"].items()}
        for score in log["results"]["scores"]
    }
    return {
        "status": log["status"],
        "samples": samples,
        "metrics": metrics,
        "total": log["results"]["total_samples"],
        "usage": log["stats"]["model_usage"],
        "task_id": log["eval"]["task_id"],
        "reductions": sorted(
            (r["scorer"], r["reducer"], str(x["sample_id"]), x["value"])
            for r in log.get("reductions") or []
            for x in r["samples"]
        ),
    }
