"""The scorer and metric registries, apart so built-ins can register without import cycles."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.registry import Registry
from engine.scorers._score import Metric, Score, Scorer
from engine.solvers import TaskState, takes_two


def _adapt(score: Any) -> Scorer:
    """A scorer written as Inspect's `score(state, target)` gets the sample's target."""
    if not takes_two(score):
        adapted: Scorer = score
        return adapted

    async def score_with_target(state: TaskState) -> Score:
        result: Score = await score(state, state.target)
        return result

    return score_with_target


scorers: Registry[Callable[..., Scorer]] = Registry("scorer", "engine.scorers._all", adapt=_adapt)
"""Scorer factories by name: `factory(**args)` returns the `async (state) -> Score` scorer."""

metrics: Registry[Callable[..., Metric]] = Registry("metric", "engine.scorers._metrics")
"""Metric factories by name: `factory(**args)` returns the `(values) -> float` metric."""
