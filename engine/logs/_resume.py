"""Find an interrupted run of the same config and recover what it already scored.

Each run folder holds `run.state` ({identity, log, status}); the identity hashes everything that
changes results and nothing that does not (log dir, display, connection, cache, batch settings).
A run that did not finish with `success` keeps its journal, so the next identical command picks up
the scored samples, reruns the failed ones and runs the rest.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.logs._provenance import config_hash
from engine.logs._writer import _loads

RUN_FILE = "run.state"
"""JSON, but not named *.json: log viewers treat every .json in a folder as an eval log."""
RESUMABLE = ("started", "cancelled", "error")
NOT_IDENTITY = (  # top-level keys that never change what a run answers
    "log_dir",
    "log_format",  # an interrupted run resumes in the format it began in (its log's suffix)
    "display",
    "connection",
    "cache",
    "batch",
    "resume",
    "fail_on_error",
    "retry_on_error",
    "prices",
    "gate",
    "budget",
    "plan",
)


def run_identity(resolved: dict[str, Any], dataset_digest: str | None = None) -> str:
    """`dataset_digest`: the dataset file's content hash, so an edited dataset is a new identity."""
    kept = {k: v for k, v in resolved.items() if k not in NOT_IDENTITY}
    # How a job is split: only a shard's own slice makes it another run (each resumes its own).
    for key in ("shards", "workers"):
        kept.pop(key, None)
    if kept.get("shard") is None:
        kept.pop("shard", None)
    if dataset_digest is not None:
        kept["dataset_content"] = dataset_digest
    return config_hash(kept)


def write_run_file(
    run_dir: Path, identity: str, log_name: str, status: str, shuffle_seed: int | None = None
) -> None:
    """`shuffle_seed`: the seed the run shuffled its samples with. An unseeded shuffle draws one,
    which is not part of the identity (the same command must find the run again), so it is kept
    here for a resume to select the same samples."""
    path = run_dir / RUN_FILE
    temporary = path.with_name(f".{RUN_FILE}.tmp")
    record: dict[str, Any] = {"identity": identity, "log": log_name, "status": status}
    if shuffle_seed is not None:
        record["shuffle_seed"] = shuffle_seed
    temporary.write_text(json.dumps(record))
    os.replace(temporary, path)


def read_run_file(run_dir: Path) -> dict[str, Any] | None:
    """`{identity, log, status[, shuffle_seed]}` of the run in `run_dir`, or None if there is none (or unreadable)."""
    try:
        record = json.loads((run_dir / RUN_FILE).read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def find_resumable(log_dir: Path, identity: str) -> tuple[Path, dict[str, Any]] | None:
    """The newest unfinished run folder of this identity under `log_dir`: (folder, its record)."""
    if not log_dir.is_dir():
        return None
    for run_file in sorted(log_dir.glob(f"*/{RUN_FILE}"), reverse=True):
        record = read_run_file(run_file.parent)
        if record is None:
            continue
        if record.get("identity") == identity and record.get("status") in RESUMABLE:
            return run_file.parent, record
    return None


@dataclass
class Recovered:
    """What an interrupted run left: which samples are scored (and their score values), and the
    usage of everything it ran. Only keys and values are held, not whole sample records."""

    done: set[tuple[str, int]] = field(default_factory=set)
    scores: dict[str, list[tuple[str, int, Any]]] = field(default_factory=dict)
    """Per scorer: (sample id, epoch, score value) of each scored sample and epoch."""
    usage: dict[str, dict[str, int]] = field(default_factory=dict)
    dropped: int = 0
    """Samples that had failed: they run again."""


def recover_journal(journal: Path, selected: set[str] | None = None) -> Recovered:
    """Keep the journal's scored samples (once each), drop failed and torn lines, rewrite it.

    `selected`: the ids this run selects, when known; a sample outside them (a journal from an
    older version that shuffled differently) is dropped, so a resume never grows the sample set."""
    recovered = Recovered()
    if not journal.exists():
        return recovered
    temporary = journal.with_name(f".{journal.name}.tmp")
    with journal.open(encoding="utf-8") as lines, temporary.open("w", encoding="utf-8") as kept:
        for line in lines:
            if not line.endswith("\n"):
                continue  # torn by a kill mid-write
            record = _loads(line)
            for model, usage in (record.get("model_usage") or {}).items():
                total = recovered.usage.setdefault(model, {})
                for name, value in usage.items():
                    if isinstance(value, int):
                        total[name] = total.get(name, 0) + value
            key = (str(record["id"]), int(record["epoch"]))
            if selected is not None and key[0] not in selected:
                continue
            if record.get("error") is not None or key in recovered.done:
                recovered.dropped += record.get("error") is not None
                continue
            recovered.done.add(key)
            for name, score in (record.get("scores") or {}).items():
                recovered.scores.setdefault(name, []).append((*key, score.get("value")))
            kept.write(line)
    os.replace(temporary, journal)
    return recovered
