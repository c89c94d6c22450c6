"""Batch mode (`batch=on`): requests go through the providers' batch APIs at batch prices.

Provider-neutral: `Batcher` queues a model's requests, sends them in batches and hands each its
line, through the `BatchAdapter` its provider offers (`ModelAPI.batch_adapter()`, declared in
`engine.providers` and implemented beside each provider); `BatchJournal` records the batches in
flight so a resumed run adopts them; `running_batchers` runs a run's batchers beside its samples.
"""

from engine.batch._batcher import BatchCounts, Batcher
from engine.batch._journal import BatchJournal, OpenBatch, Unconfirmed, batch_journal_path
from engine.batch._running import running_batchers

__all__ = [
    "BatchCounts",
    "BatchJournal",
    "Batcher",
    "OpenBatch",
    "Unconfirmed",
    "batch_journal_path",
    "running_batchers",
]
