"""The statistics behind the comparison table: intervals, percentiles and paired tests.

Models are compared on the samples they share, pair by pair, because two models scored on the same
questions differ far less by chance than two independent samples would suggest: exact McNemar for
right/wrong scores (only the questions where they disagree carry information), a sign-flip
permutation test on the paired differences for anything else.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Sequence

Z95 = 1.959963984540054
EXACT_LIMIT = 14
"""Up to this many non-zero paired differences, the permutation test enumerates every sign flip."""
RESAMPLES = 20_000


def is_binary(values: Sequence[float]) -> bool:
    return all(value in (0.0, 1.0) for value in values)


def interval(values: Sequence[float]) -> tuple[float, float]:
    """95 % interval of the mean: Wilson's for 0/1 scores (sane at 0 and 1 and for few samples),
    the normal approximation otherwise."""
    n = len(values)
    if n == 0:
        return (math.nan, math.nan)
    mean = sum(values) / n
    if is_binary(values):
        centre = (mean + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
        half = Z95 * math.sqrt(mean * (1 - mean) / n + Z95**2 / (4 * n * n)) / (1 + Z95**2 / n)
        return (max(0.0, centre - half), min(1.0, centre + half))
    if n == 1:
        return (mean, mean)
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = Z95 * sd / math.sqrt(n)
    return (mean - half, mean + half)


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def mcnemar_exact(only_first: int, only_second: int) -> float:
    """Two-sided exact McNemar p-value from the discordant pairs (a binomial test at 1/2)."""
    n = only_first + only_second
    if n == 0:
        return 1.0
    k = min(only_first, only_second)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)


def paired_permutation(differences: Sequence[float], seed: int = 0) -> float:
    """Two-sided p-value of the mean paired difference under random sign flips."""
    nonzero = [d for d in differences if d != 0]
    if not nonzero:
        return 1.0
    observed = abs(sum(nonzero))
    tolerance = 1e-12 * max(1.0, observed)
    if len(nonzero) <= EXACT_LIMIT:
        flips = itertools.product((1, -1), repeat=len(nonzero))
        extreme = sum(
            abs(sum(s * d for s, d in zip(signs, nonzero, strict=True))) >= observed - tolerance
            for signs in flips
        )
        return extreme / 2 ** len(nonzero)
    draw = random.Random(seed)
    extreme = sum(
        abs(sum(d if draw.random() < 0.5 else -d for d in nonzero)) >= observed - tolerance
        for _ in range(RESAMPLES)
    )
    return (extreme + 1) / (RESAMPLES + 1)


def paired_test(first: Sequence[float], second: Sequence[float]) -> tuple[str, float]:
    """(test name, p-value) for two models' per-sample scores on the same samples, in the same
    order: exact McNemar when every value is 0 or 1, else the sign-flip permutation test."""
    if is_binary(first) and is_binary(second):
        only_first = sum(a > b for a, b in zip(first, second, strict=True))
        only_second = sum(b > a for a, b in zip(first, second, strict=True))
        return "mcnemar", mcnemar_exact(only_first, only_second)
    differences = [a - b for a, b in zip(first, second, strict=True)]
    return "permutation", paired_permutation(differences)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm–Bonferroni adjusted p-values (several models tested against the same best one)."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted = [1.0] * len(p_values)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted
