"""Where a folder's eval logs are, and a log's own span: what comparison, report, gate and merge
all need to read runs."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

from engine.logs._format import LOG_SUFFIXES
from engine.logs._resume import RUN_FILE, read_run_file

LOG_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}[:-]\d{2}[:-]\d{2}.*\.(json|eval)$")
"""Inspect's rule: an eval log's name starts with its timestamp (so comparison.json is not)."""


def find_log_files(paths: list[Path]) -> list[Path]:
    """Eval logs under `paths`: in a run folder, the one its run file names; else every log not
    under a hidden folder (`.replaced/`, `.hydra/`)."""
    found: list[Path] = []
    for path in paths:
        if path.is_file():
            found.append(path)
            continue
        candidates = (p for p in path.rglob("*") if p.suffix in LOG_SUFFIXES and p.is_file())
        for candidate in sorted(candidates):
            relative = candidate.relative_to(path).parts
            if any(part.startswith(".") for part in relative) or not LOG_NAME.match(relative[-1]):
                continue
            record = (
                read_run_file(candidate.parent) if (candidate.parent / RUN_FILE).exists() else None
            )
            if record is not None and record.get("log") != candidate.name:
                continue
            found.append(candidate)
    return list(dict.fromkeys(found))


def eval_seconds(stats: dict[str, Any]) -> float:
    """The eval's own span (`started_at` → `completed_at` of a log's stats); 0 if unknown."""
    try:
        start = datetime.fromisoformat(stats["started_at"])
        end = datetime.fromisoformat(stats["completed_at"])
    except (KeyError, TypeError, ValueError):
        return 0.0
    return max(0.0, (end - start).total_seconds())
