"""Batch ids on disk the moment a batch is created, so a resumed run re-attaches to its batches.

One JSON line per event beside the log (`<log>.batches.jsonl`): `created` (the batcher's key, the
batch id and its custom ids) and `ended` (its results were read). A batch created but not ended
is still the provider's to finish, and paid for: a resumed run polls it instead of resubmitting.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

__all__ = ["BatchJournal", "OpenBatch", "batch_journal_path"]


def batch_journal_path(log_path: Path) -> Path:
    return log_path.with_name(log_path.stem + ".batches.jsonl")


@dataclass(frozen=True, slots=True)
class OpenBatch:
    key: str
    batch_id: str
    custom_ids: tuple[str, ...]


class BatchJournal:
    def __init__(self, path: Path | None) -> None:
        """`path` None keeps nothing (library use without a log)."""
        self.path = path

    def created(self, key: str, batch_id: str, custom_ids: list[str]) -> None:
        self._append({"event": "created", "key": key, "batch": batch_id, "requests": custom_ids})

    def ended(self, batch_id: str) -> None:
        self._append({"event": "ended", "batch": batch_id})

    def open_batches(self) -> list[OpenBatch]:
        """Batches created and not ended, oldest first (a torn last line is ignored)."""
        if self.path is None or not self.path.exists():
            return []
        created: dict[str, OpenBatch] = {}
        with self.path.open(encoding="utf-8") as lines:
            for line in lines:
                if not line.endswith("\n"):
                    continue
                record = json.loads(line)
                if record["event"] == "created":
                    batch = OpenBatch(record["key"], record["batch"], tuple(record["requests"]))
                    created[batch.batch_id] = batch
                else:
                    created.pop(record["batch"], None)
        return list(created.values())

    def _append(self, record: dict[str, object]) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(record, separators=(",", ":")) + "\n")
            out.flush()
