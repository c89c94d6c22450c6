"""The scorer and metric registries, apart so built-ins can register without import cycles."""

from __future__ import annotations

from collections.abc import Callable

from engine.registry import Registry
from engine.scorers._score import Metric, Scorer

scorers: Registry[Callable[..., Scorer]] = Registry("scorer", "engine.scorers._all")
"""Scorer factories by name: `factory(**args)` returns the `async (state) -> Score` scorer."""

metrics: Registry[Callable[[], Metric]] = Registry("metric", "engine.scorers._metrics")
"""Metric factories by name: `factory()` returns the `(values) -> float` metric."""
