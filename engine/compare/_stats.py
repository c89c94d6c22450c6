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
from collections.abc import Callable, Sequence

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


# ── intervals for proportions, clustered errors, power (Miller 2024, "Adding error bars to evals")


def normal_quantile(p: float) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf(p)


def wilson(successes: float, n: float, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson's score interval for a proportion (Newcombe 1998, method 3); `n` may be an effective
    sample size (not a whole number) when clustering shrinks it."""
    if n <= 0:
        return (math.nan, math.nan)
    z = normal_quantile(0.5 + confidence / 2)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    low = 0.0 if successes <= 0 else max(0.0, centre - half)  # exact ends, not rounding noise
    high = 1.0 if successes >= n else min(1.0, centre + half)
    return (low, high)


def clustered_stderr(values: Sequence[float], clusters: Sequence[str]) -> float:
    """Standard error of the mean when samples come in clusters (questions about one passage, one
    topic): the squared sums of each cluster's deviations, with the finite-cluster correction
    C / (C - 1), as Inspect's `stderr(cluster=…)` (Miller 2024, appendix A). 0.0 below 2 clusters."""
    n = len(values)
    groups: dict[str, list[float]] = {}
    for value, cluster in zip(values, clusters, strict=True):
        groups.setdefault(cluster, []).append(value)
    count = len(groups)
    if count < 2:
        return 0.0
    mean = math.fsum(values) / n
    variance = math.fsum(math.fsum(v - mean for v in group) ** 2 for group in groups.values())
    return math.sqrt(variance * count / (count - 1)) / n


def plain_stderr(values: Sequence[float]) -> float:
    """Sample standard deviation / √n (0.0 below two values)."""
    n = len(values)
    if n < 2:
        return 0.0
    mean = math.fsum(values) / n
    return math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1) / n)


def mean_interval(
    values: Sequence[float], clusters: Sequence[str] | None = None, confidence: float = 0.95
) -> tuple[float, float, float]:
    """(standard error, low, high) of the mean: for 0/1 scores Wilson's interval (on the effective
    sample size n / design effect when clustered); otherwise mean ± z·SE (clustered if given)."""
    n = len(values)
    if n == 0:
        return (math.nan, math.nan, math.nan)
    mean = math.fsum(values) / n
    se = clustered_stderr(values, clusters) if clusters is not None else plain_stderr(values)
    if is_binary(values):
        effective = float(n)
        simple = math.sqrt(mean * (1 - mean) / n)
        if clusters is not None and se > 0 and simple > 0:
            effective = n / max(1.0, (se / simple) ** 2)  # never more samples than there are
        low, high = wilson(mean * effective, effective, confidence)
        return (se, low, high)
    z = normal_quantile(0.5 + confidence / 2)
    return (se, mean - z * se, mean + z * se)


def newcombe_paired(
    both: int, only_first: int, only_second: int, neither: int, confidence: float = 0.95
) -> tuple[float, float]:
    """Interval of p1 − p2 for paired right/wrong outcomes: Newcombe 1998 (Stat Med 17:2635),
    method 10, square-and-add of the two Wilson intervals with the pairs' correlation φ."""
    n = both + only_first + only_second + neither
    if n == 0:
        return (math.nan, math.nan)
    first, second = both + only_first, both + only_second
    p1, p2 = first / n, second / n
    l1, u1 = wilson(first, n, confidence)
    l2, u2 = wilson(second, n, confidence)
    margins = first * (n - first) * second * (n - second)
    phi = 0.0
    if margins > 0:
        cross = both * neither - only_first * only_second
        if cross > n / 2:
            phi = (cross - n / 2) / math.sqrt(margins)
        elif cross < 0:
            phi = cross / math.sqrt(margins)
    down = math.sqrt(max(0.0, (p1 - l1) ** 2 + (u2 - p2) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2)))
    up = math.sqrt(max(0.0, (p2 - l2) ** 2 + (u1 - p1) ** 2 - 2 * phi * (p2 - l2) * (u1 - p1)))
    return (max(-1.0, p1 - p2 - down), min(1.0, p1 - p2 + up))


def minimum_detectable_effect(stderr: float, alpha: float = 0.05, power: float = 0.8) -> float:
    """The smallest true difference a two-sided test at `alpha` finds with probability `power`:
    (z₁₋α/₂ + z_power) · SE (2.80 · SE at the usual 5 % and 80 %)."""
    return (normal_quantile(1 - alpha / 2) + normal_quantile(power)) * stderr


def cluster_permutation(differences: Sequence[float], clusters: Sequence[str]) -> float:
    """The sign-flip test on cluster sums: under no difference a whole cluster flips together."""
    sums: dict[str, float] = {}
    for difference, cluster in zip(differences, clusters, strict=True):
        sums[cluster] = sums.get(cluster, 0.0) + difference
    return paired_permutation(list(sums.values()))


# ── agreement between raters: Cohen's κ (two), Fleiss' κ (a panel), with intervals


def cohen_kappa(first: Sequence[str], second: Sequence[str]) -> tuple[float, float]:
    """(κ, its standard error) of two raters on the same items: Cohen 1960, with his large-sample
    SE √(pₒ(1−pₒ) / (n(1−pₑ)²)). κ is nan when chance agreement is 1 (one category only)."""
    n = len(first)
    if n == 0:
        return (math.nan, math.nan)
    observed = sum(a == b for a, b in zip(first, second, strict=True)) / n
    categories = set(first) | set(second)
    expected = sum((first.count(c) / n) * (second.count(c) / n) for c in categories)
    if expected >= 1:
        return (math.nan, math.nan)
    kappa = (observed - expected) / (1 - expected)
    se = math.sqrt(observed * (1 - observed) / (n * (1 - expected) ** 2))
    return (kappa, se)


def fleiss_kappa(counts: Sequence[Sequence[int]]) -> float:
    """Fleiss 1971: `counts[i][j]` raters put item i in category j (the same number of raters
    per item). nan when every rating falls in one category."""
    items = len(counts)
    if items == 0:
        return math.nan
    raters = sum(counts[0])
    if raters < 2 or any(sum(row) != raters for row in counts):
        raise ValueError("Fleiss' kappa needs the same number (≥ 2) of ratings for every item")
    total = items * raters
    shares = [sum(row[j] for row in counts) / total for j in range(len(counts[0]))]
    agreement = (
        math.fsum((sum(c * c for c in row) - raters) / (raters * (raters - 1)) for row in counts)
        / items
    )
    chance = math.fsum(p * p for p in shares)
    if chance >= 1:
        return math.nan
    return (agreement - chance) / (1 - chance)


def category_counts(ratings: Sequence[Sequence[str]]) -> list[list[int]]:
    """Items × raters labels → items × categories counts (Fleiss' table)."""
    categories = sorted({label for row in ratings for label in row})
    return [[row.count(c) for c in categories] for row in ratings]


def bootstrap_interval(
    items: Sequence[Sequence[str]],
    statistic: Callable[[Sequence[Sequence[str]]], float],
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile interval of `statistic` over items resampled with replacement (seeded, so a
    report is reproducible); nan resamples (one category only) are left out."""
    if len(items) < 2:
        return (math.nan, math.nan)
    draw = random.Random(seed)
    values = sorted(
        value
        for _ in range(resamples)
        if not math.isnan(value := statistic(draw.choices(items, k=len(items))))
    )
    if not values:
        return (math.nan, math.nan)
    tail = (1 - confidence) / 2
    return (percentile(values, tail), percentile(values, 1 - tail))
