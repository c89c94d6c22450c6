"""Run a plan's batchers beside its samples, journaled in the run folder."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Collection, Sequence
from contextlib import asynccontextmanager

import anyio

from engine.batch._batcher import Batcher
from engine.batch._journal import BatchJournal

__all__ = ["running_batchers"]


@asynccontextmanager
async def running_batchers(
    batchers: Sequence[Batcher],
    journal: BatchJournal,
    scored: Collection[tuple[str, int]] = (),
    on_change: Callable[[], None] | None = None,
) -> AsyncIterator[None]:
    """Run every batcher, journaled; re-attach to the journal's batches that hold requests of
    samples not in `scored` (when resuming), and to those its interrupted create calls made; `on_change` hears of each batch created or ended;
    stop them on exit."""
    if not batchers:
        yield
        return
    open_batches = journal.reattachable(scored)
    unconfirmed = journal.unconfirmed(scored)
    for batcher in batchers:
        batcher.attach(journal, open_batches, unconfirmed)
        if on_change is not None:
            batcher.on_change = on_change
    async with anyio.create_task_group() as group:
        for batcher in batchers:
            group.start_soon(batcher.run)
        try:
            yield
        finally:
            group.cancel_scope.cancel()
