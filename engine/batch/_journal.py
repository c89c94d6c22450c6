"""Batch ids on disk the moment a batch is created, so a resumed run re-attaches to its batches.

One JSON line per event beside the log (`<log>.batches.jsonl`): `created` (the batcher's key, the
batch id, its custom ids and the (sample id, epoch) of each), `ended` (its results were read) and
`abandoned` (a resumed run could not get it back from the provider; its requests went again).
Every batch is paid for once created: a resumed run re-attaches to each batch holding a request of
a sample not yet scored, whether it is still running or ended (its results are read again, e.g. a
model's answers whose grading was interrupted), instead of resubmitting those requests.
"""

from __future__ import annotations

import json
from collections.abc import Collection
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

    def created(
        self, key: str, batch_id: str, custom_ids: list[str], samples: list[tuple[str, int]]
    ) -> None:
        self._append(
            {
                "event": "created",
                "key": key,
                "batch": batch_id,
                "requests": custom_ids,
                "samples": [list(sample) for sample in samples],
            }
        )

    def ended(self, batch_id: str) -> None:
        self._append({"event": "ended", "batch": batch_id})

    def abandoned(self, batch_id: str) -> None:
        self._append({"event": "abandoned", "batch": batch_id})

    def reattachable(self, scored: Collection[tuple[str, int]]) -> list[OpenBatch]:
        """Batches (oldest first, not abandoned) holding a request of a sample not in `scored`;
        a torn last line is ignored."""
        if self.path is None or not self.path.exists():
            return []
        found: dict[str, OpenBatch] = {}
        with self.path.open(encoding="utf-8") as lines:
            for line in lines:
                if not line.endswith("\n"):
                    continue
                record = json.loads(line)
                if record["event"] == "abandoned":
                    found.pop(record["batch"], None)
                if record["event"] != "created":
                    continue
                samples = {(str(sample), int(epoch)) for sample, epoch in record["samples"]}
                if samples - set(scored):
                    batch = OpenBatch(record["key"], record["batch"], tuple(record["requests"]))
                    found[batch.batch_id] = batch
        return list(found.values())

    def _append(self, record: dict[str, object]) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(record, separators=(",", ":")) + "\n")
            out.flush()
