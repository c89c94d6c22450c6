"""Batch ids on disk the moment a batch is created, so a resumed run re-attaches to its batches.

One JSON line per event beside the log (`<log>.batches.jsonl`): `creating` (just before the create
call: the batcher's key, the batch's tag, when, its custom ids and the (sample id, epoch) of each),
`created` (the same with the batch id), `ended` (its results were read), `abandoned` (a resumed run
could not get it back from the provider; its requests went again) and `not_created` (a resumed
run found no batch with the tag of a `creating` never followed by `created`).
Every batch is paid for once created: a resumed run re-attaches to each batch holding a request of
a sample not yet scored, whether it is still running or ended (its results are read again, e.g. a
model's answers whose grading was interrupted), instead of resubmitting those requests.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine._secrets import redact

__all__ = ["BatchJournal", "OpenBatch", "Unconfirmed", "batch_journal_path"]


def batch_journal_path(log_path: Path) -> Path:
    return log_path.with_name(log_path.stem + ".batches.jsonl")


@dataclass(frozen=True, slots=True)
class OpenBatch:
    key: str
    batch_id: str
    custom_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Unconfirmed:
    """A batch whose create call was made but whose id never reached the journal."""

    key: str
    tag: str
    """The label the batch was created with (see `BatchAdapter.find`)."""
    at: float
    """Unix time just before the create call."""
    custom_ids: tuple[str, ...]
    samples: tuple[tuple[str, int], ...]


class BatchJournal:
    def __init__(self, path: Path | None) -> None:
        """`path` None keeps nothing (library use without a log)."""
        self.path = path

    def creating(
        self, key: str, tag: str, at: float, custom_ids: list[str], samples: list[tuple[str, int]]
    ) -> None:
        self._append(
            {
                "event": "creating",
                "key": key,
                "tag": tag,
                "at": at,
                "requests": custom_ids,
                "samples": [list(sample) for sample in samples],
            }
        )

    def created(
        self,
        key: str,
        batch_id: str,
        custom_ids: list[str],
        samples: list[tuple[str, int]],
        tag: str | None = None,
    ) -> None:
        record: dict[str, object] = {
            "event": "created",
            "key": key,
            "batch": batch_id,
            "requests": custom_ids,
            "samples": [list(sample) for sample in samples],
        }
        if tag is not None:
            record["tag"] = tag
        self._append(record)

    def ended(self, batch_id: str) -> None:
        self._append({"event": "ended", "batch": batch_id})

    def abandoned(self, batch_id: str) -> None:
        self._append({"event": "abandoned", "batch": batch_id})

    def not_created(self, tag: str) -> None:
        self._append({"event": "not_created", "tag": tag})

    def reattachable(self, scored: Collection[tuple[str, int]]) -> list[OpenBatch]:
        """Batches (oldest first, not abandoned) holding a request of a sample not in `scored`;
        a torn last line is ignored."""
        found: dict[str, OpenBatch] = {}
        for record in self._records():
            if record["event"] == "abandoned":
                found.pop(record["batch"], None)
            if record["event"] != "created":
                continue
            samples = {(str(sample), int(epoch)) for sample, epoch in record["samples"]}
            if samples - set(scored):
                batch = OpenBatch(record["key"], record["batch"], tuple(record["requests"]))
                found[batch.batch_id] = batch
        return list(found.values())

    def unconfirmed(self, scored: Collection[tuple[str, int]]) -> list[Unconfirmed]:
        """Batches (oldest first) whose create call never journaled an id, not yet looked up,
        holding a request of a sample not in `scored` (an interrupted create may have made them)."""
        found: dict[str, Unconfirmed] = {}
        for record in self._records():
            event = record["event"]
            if event in ("created", "not_created") and record.get("tag"):
                found.pop(record["tag"], None)
            if event != "creating":
                continue
            samples = tuple((str(sample), int(epoch)) for sample, epoch in record["samples"])
            if set(samples) - set(scored):
                found[record["tag"]] = Unconfirmed(
                    record["key"],
                    record["tag"],
                    float(record["at"]),
                    tuple(record["requests"]),
                    samples,
                )
        return list(found.values())

    def _records(self) -> list[dict[str, Any]]:
        """Every complete line: a torn one (a run killed mid-write) is skipped, whether it is
        last or was ended by a later run's first line (`_append`)."""
        if self.path is None or not self.path.exists():
            return []
        records = []
        with self.path.open(encoding="utf-8") as lines:
            for line in lines:
                if not line.endswith("\n"):
                    continue
                try:
                    records.append(json.loads(line))
                except ValueError:
                    continue
        return records

    def _append(self, record: dict[str, object]) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Masked like every file we write (sample ids and tags are user data).
        line = redact(json.dumps(record, separators=(",", ":"))) + "\n"
        with self.path.open("ab+") as out:
            if out.tell() > 0:
                out.seek(-1, 2)
                if out.read(1) != b"\n":  # a torn last line: end it, or this line joins it
                    line = "\n" + line
            out.write(line.encode())
            out.flush()
