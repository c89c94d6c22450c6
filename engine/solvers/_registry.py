"""The solver registry, on its own so built-ins and plugins can register without import cycles."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from engine.registry import Registry
from engine.solvers._state import Solver, TaskState


async def generate_reply(state: TaskState, **settings: Any) -> TaskState:
    """Call the model under test on the conversation and append its reply (Inspect's `generate`
    as a solver receives it; `settings` are generation settings for this call)."""
    from engine.config import GenerationConfig

    config = GenerationConfig(**settings) if settings else None
    output = await state.require_model().generate(state.messages, config)
    state.messages.append(output.message)
    state.output = output
    return state


def takes_two(function: Callable[..., Any]) -> bool:
    """Whether `function` wants two positional arguments (Inspect's calling convention)."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):  # pragma: no cover - a builtin without a signature
        return False
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2


def _adapt(solve: Any) -> Solver:
    """A solver written as Inspect's `solve(state, generate)` gets our `generate_reply`."""
    if not takes_two(solve):
        adapted: Solver = solve
        return adapted

    async def solve_with_generate(state: TaskState) -> TaskState:
        result: TaskState = await solve(state, generate_reply)
        return result

    return solve_with_generate


solvers: Registry[Callable[..., Solver]] = Registry("solver", "engine.solvers._all", adapt=_adapt)
"""Solver factories by name: `factory(**args)` returns the `async (state) -> state` solver."""
