"""The statistics, against values worked out by hand."""

from __future__ import annotations

import math

from engine.compare import (
    holm,
    interval,
    mcnemar_exact,
    paired_permutation,
    paired_test,
    percentile,
)


def test_exact_mcnemar() -> None:
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(16, 0) == 2 / 2**16
    # 3 against 2: P(X <= 2) for Binomial(5, 1/2) is 16/32, doubled → 1.
    assert mcnemar_exact(3, 2) == 1.0
    # 8 against 1: (1 + 9) / 512, doubled.
    assert mcnemar_exact(1, 8) == 2 * 10 / 512


def test_wilson_interval_for_right_and_wrong() -> None:
    low, high = interval([1.0] * 9 + [0.0])
    assert math.isclose(low, 0.5958, abs_tol=1e-4) and math.isclose(high, 0.9821, abs_tol=1e-4)
    assert interval([1.0, 1.0])[1] == 1.0  # never past 1, even when every answer is right


def test_normal_interval_for_continuous_scores() -> None:
    low, high = interval([0.2, 0.4, 0.6])
    assert math.isclose((low + high) / 2, 0.4) and math.isclose(
        high - 0.4, 1.959964 * 0.2 / 3**0.5, rel_tol=1e-5
    )


def test_permutation_test_enumerates_small_cases() -> None:
    # Four equal positive differences: only the all-plus and all-minus flips are as extreme.
    assert paired_permutation([0.5, 0.5, 0.5, 0.5]) == 2 / 16
    assert paired_permutation([0.0, 0.0]) == 1.0
    many = paired_permutation([0.3] * 30)
    assert many < 0.001  # sampled: 30 consistent differences are far from chance


def test_paired_test_picks_the_test_by_score_kind() -> None:
    assert paired_test([1, 1, 0], [0, 1, 0])[0] == "mcnemar"
    assert paired_test([0.5, 1, 0], [0.25, 1, 0])[0] == "permutation"


def test_percentile_and_holm() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert percentile([5.0], 0.95) == 5.0
    assert holm([0.01, 0.04, 0.03]) == [0.03, 0.06, 0.06]
