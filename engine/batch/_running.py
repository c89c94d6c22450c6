"""Run a plan's batchers beside its samples, journaled in the run folder."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import anyio

from engine.batch._batcher import Batcher
from engine.batch._journal import BatchJournal

__all__ = ["running_batchers"]


@asynccontextmanager
async def running_batchers(
    batchers: Sequence[Batcher], journal: BatchJournal
) -> AsyncIterator[None]:
    """Re-attach to the journal's open batches, run every batcher, stop them on exit."""
    if not batchers:
        yield
        return
    open_batches = journal.open_batches()
    for batcher in batchers:
        batcher.attach(journal, open_batches)
    async with anyio.create_task_group() as group:
        for batcher in batchers:
            group.start_soon(batcher.run)
        try:
            yield
        finally:
            group.cancel_scope.cancel()
