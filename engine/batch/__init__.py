"""Batch mode (`batch=on`): requests go through the providers' batch APIs at batch prices.

`Batcher` is provider-neutral; a provider plugs in with a `BatchAdapter` (its `ModelAPI`'s
`batch_adapter()`). Adapters import their SDK's provider module, so import them lazily.
"""

from engine.batch._adapter import BatchAdapter, BatchState, LineError, LineResult, Prepared
from engine.batch._batcher import BatchCounts, Batcher
from engine.batch._journal import BatchJournal, OpenBatch, Unconfirmed, batch_journal_path
from engine.batch._running import running_batchers

__all__ = [
    "BatchAdapter",
    "BatchCounts",
    "BatchJournal",
    "BatchState",
    "Batcher",
    "LineError",
    "LineResult",
    "OpenBatch",
    "Prepared",
    "Unconfirmed",
    "batch_journal_path",
    "running_batchers",
]
