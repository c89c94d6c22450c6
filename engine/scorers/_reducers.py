"""Epoch reducers: a sample run for several epochs gets one value per scorer before the metrics.

`mean`, `median`, `mode` (ties: the lowest), `max`, and `pass_at_K` — the unbiased estimate of the
chance that at least one of K tries is correct (Chen et al., 2021), from n tries with c correct.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter
from collections.abc import Callable

Reducer = Callable[[list[float]], float]

_PASS_AT = re.compile(r"^pass_at_(\d+)$")


def _mode(values: list[float]) -> float:
    counts = Counter(values)
    top = max(counts.values())
    return min(value for value, count in counts.items() if count == top)


REDUCERS: dict[str, Reducer] = {
    "mean": lambda values: math.fsum(values) / len(values),
    "median": lambda values: float(statistics.median(values)),
    "mode": _mode,
    "max": max,
}


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


def reducer(name: str) -> Reducer:
    found = _PASS_AT.match(name)
    if found:
        k = int(found.group(1))
        if k < 1:
            raise ValueError("pass_at_K needs K >= 1")
        return lambda values: pass_at(k, values)
    if name in REDUCERS:
        return REDUCERS[name]
    from engine.registry import did_you_mean

    raise ValueError(
        f"unknown epoch reducer '{name}'{did_you_mean(name, set(REDUCERS) | {'pass_at_1'})} "
        f"(known: {', '.join(REDUCERS)}, pass_at_K)"
    )


def check_reducers(names: list[str], epochs: int) -> None:
    """Fail at planning time on an unknown reducer or a pass_at_K with K above the epochs."""
    for name in names:
        reducer(name)
        found = _PASS_AT.match(name)
        if found and int(found.group(1)) > epochs:
            raise ValueError(f"{name} needs at least {found.group(1)} epochs, got {epochs}")


def reduce_epochs(name: str, per_sample: list[list[float]]) -> list[float]:
    """One value per sample, from that sample's values across epochs."""
    reduce = reducer(name)
    return [reduce(values) for values in per_sample if values]
