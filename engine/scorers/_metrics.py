"""Built-in metrics over per-sample score values (already numbers: see `value_to_float`).

Metrics are registered as argument-less factories so a YAML name like `accuracy` goes through the
same `Registry.create` path as scorers. An empty list gives 0.0, never NaN (logs are strict JSON).
"""

from __future__ import annotations

import math
import random
import statistics

from engine.scorers._registry import metrics
from engine.scorers._score import Metric


def _mean(values: list[float]) -> float:
    return math.fsum(values) / len(values) if values else 0.0


def _std(values: list[float]) -> float:
    """Sample standard deviation (ddof=1); 0.0 below two values."""
    return statistics.stdev(values) if len(values) >= 2 else 0.0


def _stderr(values: list[float]) -> float:
    """Standard error of the mean: sample std / sqrt(n); 0.0 below two values."""
    return _std(values) / math.sqrt(len(values)) if len(values) >= 2 else 0.0


@metrics.register("accuracy")
def accuracy() -> Metric:
    """Mean of the values: with C=1, I=0, P=0.5 it is the share answered correctly."""
    return _mean


@metrics.register("mean")
def mean() -> Metric:
    return _mean


@metrics.register("std")
def std() -> Metric:
    return _std


@metrics.register("stderr")
def stderr() -> Metric:
    return _stderr


def _bootstrap_stderr(values: list[float], num_samples: int) -> float:
    """Std of the means of `num_samples` resamples (with replacement), seeded: a log is
    reproducible. Makes no normality assumption, so it suits skewed or bounded scores."""
    if len(values) < 2:
        return 0.0
    rng = random.Random(0)
    n = len(values)
    means = [math.fsum(rng.choices(values, k=n)) / n for _ in range(num_samples)]
    return statistics.pstdev(means)


@metrics.register("bootstrap_stderr")
def bootstrap_stderr(num_samples: int = 1000) -> Metric:
    if num_samples < 2:
        raise ValueError(f"num_samples must be at least 2, got {num_samples}")
    return lambda values: _bootstrap_stderr(values, num_samples)
