"""Every job of a sweep in one process and one event loop, sharing connection pools.

For API-bound sweeps: each job's samples run as soon as its provider's pool has room, so a slow
model never holds up a fast one, jobs on the same provider share its connection limit (and its rate
limits) instead of fighting over it from separate processes, and nothing is started twice.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import Literal

import anyio

from engine.runner import (
    Display,
    EvalResult,
    PlainDisplay,
    PreparedRun,
    RichDisplay,
    execute,
    make_display,
    new_progress,
    run_interruptible,
)


def _displays(
    mode: Literal["auto", "rich", "plain", "none"], count: int, stack: ExitStack
) -> list[Display]:
    chosen = make_display(mode)
    if isinstance(chosen, RichDisplay):
        progress = stack.enter_context(new_progress())
        return [RichDisplay(progress=progress) for _ in range(count)]
    if isinstance(chosen, PlainDisplay):
        return [PlainDisplay(labelled=True) for _ in range(count)]
    return [chosen, *[Display() for _ in range(count - 1)]]


async def _run_all(prepared: list[PreparedRun], displays: list[Display]) -> list[EvalResult]:
    results: list[EvalResult | None] = [None] * len(prepared)

    async def one(index: int) -> None:
        results[index] = await execute(prepared[index], displays[index])

    try:
        async with anyio.create_task_group() as group:
            for index in range(len(prepared)):
                group.start_soon(one, index)
    finally:
        with anyio.CancelScope(shield=True):
            for hub in {id(p.plan.hub): p.plan.hub for p in prepared}.values():
                await hub.aclose()
    return [result for result in results if result is not None]


def run_in_process(
    prepared: list[PreparedRun], display: Literal["auto", "rich", "plain", "none"]
) -> list[EvalResult]:
    """Run the prepared jobs side by side; their hubs are closed at the end."""
    if not prepared:
        return []
    with ExitStack() as stack:
        displays = _displays(display, len(prepared), stack)
        return run_interruptible(_run_all, prepared, displays)
