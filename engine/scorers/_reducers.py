"""Epoch reducers: a sample run for several epochs gets one value per scorer before the metrics.

`mean`, `median`, `mode` (ties: the lowest), `max`, and `pass_at_K` — the unbiased estimate of the
chance that at least one of K tries is correct (Chen et al., 2021), from n tries with c correct.
Reducers are factories in the `reducers` registry, like metrics: a user's file or an installed
package adds its own (`epochs_reducer: my_reducers.py:trimmed_mean`).
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter
from collections.abc import Callable
from typing import Any

from engine.registry import ComponentSpec, Registry, RegistryError

Reducer = Callable[[list[float]], float]
"""One sample's values across epochs → one value."""

_PASS_AT = re.compile(r"^pass_at_(-?\d+)$")


def _pass_at_alias(name: str) -> tuple[str, dict[str, Any]] | None:
    """`pass_at_K` is `pass_at` with `k=K` (Inspect's names)."""
    found = _PASS_AT.match(name)
    return ("pass_at", {"k": int(found.group(1))}) if found else None


reducers: Registry[Callable[..., Reducer]] = Registry(
    "reducer", "engine.scorers._reducers", label="epoch reducer", alias=_pass_at_alias
)
"""Reducer factories by name: `factory(**args)` returns the `(values) -> float` reducer."""


def _mean(values: list[float]) -> float:
    return math.fsum(values) / len(values)


def _mode(values: list[float]) -> float:
    counts = Counter(values)
    top = max(counts.values())
    return min(value for value, count in counts.items() if count == top)


@reducers.register("mean")
def mean() -> Reducer:
    return _mean


@reducers.register("median")
def median() -> Reducer:
    return lambda values: float(statistics.median(values))


@reducers.register("mode")
def mode() -> Reducer:
    return _mode


@reducers.register("max")
def max_() -> Reducer:
    return max


def pass_at(k: int, values: list[float]) -> float:
    """1 - C(n-c, k) / C(n, k): the chance that k of the n tries include a correct one.

    With fewer than k tries (epochs that failed are not scored), no correct try is 0 and any
    correct one is 1."""
    n, correct = len(values), sum(1 for value in values if value >= 1.0)
    if correct == 0:
        return 0.0
    if n - correct < k:
        return 1.0
    return 1.0 - math.comb(n - correct, k) / math.comb(n, k)


@reducers.register("pass_at")
def pass_at_k(k: int) -> Reducer:
    """Written `pass_at_K` in YAML (`pass_at_2`), or `{pass_at: {k: 2}}`."""
    if k < 1:
        raise ValueError("pass_at_K needs K >= 1")
    return lambda values: pass_at(k, values)


def check_reducers(specs: list[ComponentSpec], epochs: int) -> list[tuple[str, Reducer]]:
    """The reducers by name, or a `RegistryError` at planning time: an unknown reducer, a bad
    argument, or a pass_at_K with K above the epochs."""
    planned = []
    for spec in specs:
        name, args, reduce = reducers.create(spec)
        aliased = _pass_at_alias(name)
        k = aliased[1]["k"] if aliased else args.get("k") if name == "pass_at" else None
        if isinstance(k, int) and k > epochs:
            raise RegistryError(f"{name} needs at least {k} epochs, got {epochs}")
        planned.append((name, reduce))
    return planned


def reduce_epochs(reducer: Reducer | ComponentSpec, per_sample: list[list[float]]) -> list[float]:
    """One value per sample, from that sample's values across epochs."""
    reduce = reducers.create(reducer)[2] if isinstance(reducer, str | dict) else reducer
    return [reduce(values) for values in per_sample if values]
