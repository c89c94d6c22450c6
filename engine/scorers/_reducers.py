"""Epoch reducers: a sample run for several epochs gets one value per scorer before the metrics.

Inspect's reducers, with its names and results: `mean`, `median`, `mode` (a tie goes to the value
seen first), `max`, `at_least_K` (1 when at least K epochs reach `value`), `pass_at_K` (the
unbiased chance that one of K tries passes, Chen et al., 2021) and `pass_k_K` (the chance that all K
tries pass). `NAME_K` is `NAME` with `k=K` unless `NAME_K` is itself a reducer. A sample whose
scored epochs are fewer than K is unscored for the K reducers (NaN in Inspect): it is left out of
the metrics. Reducers are factories in the `reducers` registry, like metrics: a user's file or an
installed package adds its own (`epochs_reducer: my_reducers.py:trimmed_mean`).
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from engine.registry import ComponentSpec, Registry, RegistryError

Reducer = Callable[[list[float]], float]
"""One sample's values across epochs → one value (NaN: unscored, left out of the metrics)."""

_WITH_K = re.compile(r"^(.*?)_(\d+)$")
_NEEDS_K_EPOCHS = ("at_least", "pass_at", "pass_k")


def _k_shorthand(name: str) -> tuple[str, dict[str, Any]] | None:
    """`pass_at_2` is `pass_at` with `k=2` (Inspect's `<name>_<k>` rule)."""
    found = _WITH_K.match(name)
    if found is None or found.group(1) not in reducers.names():
        return None
    return found.group(1), {"k": int(found.group(2))}


reducers: Registry[Callable[..., Reducer]] = Registry(
    "reducer", "engine.scorers._reducers", label="epoch reducer", alias=_k_shorthand
)
"""Reducer factories by name: `factory(**args)` returns the `(values) -> float` reducer."""


def _mean(values: list[float]) -> float:
    return math.fsum(values) / len(values)


def _mode(values: list[float]) -> float:
    return Counter(values).most_common(1)[0][0]  # ties: the value seen first, as Inspect


def _check_k(k: int) -> None:
    if k < 1:
        raise ValueError("K must be at least 1 (pass_at_K, pass_k_K, at_least_K)")


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


def pass_at(k: int, values: list[float], value: float = 1.0) -> float:
    """1 - C(n-c, k) / C(n, k): the chance that k of the n tries include one reaching `value`;
    NaN with fewer than k tries (epochs that failed are not scored)."""
    n, correct = len(values), sum(1 for v in values if v >= value)
    if n < k:
        return math.nan
    if n - correct < k:
        return 1.0
    return 1.0 - math.comb(n - correct, k) / math.comb(n, k)


@reducers.register("pass_at")
def pass_at_k(k: int, value: float = 1.0) -> Reducer:
    """Written `pass_at_K` in YAML (`pass_at_2`), or `{pass_at: {k: 2}}`."""
    _check_k(k)
    return lambda values: pass_at(k, values, value)


@reducers.register("pass_k")
def pass_k(k: int, value: float = 1.0) -> Reducer:
    """C(c, k) / C(n, k): the chance that all of k tries reach `value` (`pass_k_K`)."""
    _check_k(k)

    def reduce(values: list[float]) -> float:
        if len(values) < k:
            return math.nan
        correct = sum(1 for v in values if v >= value)
        return math.comb(correct, k) / math.comb(len(values), k)

    return reduce


@reducers.register("at_least")
def at_least(k: int, value: float = 1.0) -> Reducer:
    """1 when at least k epochs reach `value`, else 0 (`at_least_K`)."""
    _check_k(k)
    return lambda values: 1.0 if sum(1 for v in values if v >= value) >= k else 0.0


def check_reducers(specs: list[ComponentSpec], epochs: int) -> list[tuple[str, Reducer]]:
    """The reducers by name, or a `RegistryError` at planning time: an unknown reducer, a bad
    argument, or a pass_at_K with K above the epochs."""
    planned = []
    for spec in specs:
        name, args, reduce = reducers.create(spec)
        aliased = _k_shorthand(name)
        base, k = (aliased[0], aliased[1]["k"]) if aliased else (name, args.get("k"))
        if base in _NEEDS_K_EPOCHS and isinstance(k, int) and k > epochs:
            raise RegistryError(f"{name} needs at least {k} epochs, got {epochs}")
        planned.append((name, reduce))
    return planned


def reduce_epochs(
    reducer: Reducer | ComponentSpec, per_sample: Iterable[list[float]]
) -> list[float]:
    """One value per sample, from that sample's values across epochs; a sample the reducer leaves
    unscored (NaN: fewer scored epochs than its K) is left out, as Inspect leaves it out of the
    metrics."""
    reduce = reducers.create(reducer)[2] if isinstance(reducer, str | dict) else reducer
    reduced = (reduce(values) for values in per_sample if values)
    return [value for value in reduced if not math.isnan(value)]
