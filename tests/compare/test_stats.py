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


def test_textbook_values() -> None:
    # Wilson, 95 %: 0 of 10 → [0, 0.2775]; 5 of 10 → [0.2366, 0.7634] (Newcombe 1998, table I).
    low, high = interval([0.0] * 10)
    assert low == 0.0 and math.isclose(high, 0.2775, abs_tol=1e-4)
    low, high = interval([1.0] * 5 + [0.0] * 5)
    assert math.isclose(low, 0.2366, abs_tol=1e-4) and math.isclose(high, 0.7634, abs_tol=1e-4)
    # Exact McNemar, 10 against 2: 2 × (C(12,0) + C(12,1) + C(12,2)) / 2**12 = 158 / 4096.
    assert math.isclose(mcnemar_exact(10, 2), 158 / 4096)
    assert math.isclose(mcnemar_exact(2, 10), 158 / 4096)  # symmetric
    # Sign flips of (1, 2, 3): sums ±6, ±4, ±2, 0, 0 — only ±6 reach |6|: 2 of 8.
    assert paired_permutation([1.0, 2.0, 3.0]) == 2 / 8
    # (1, 1, -2) sums to 0: every flip is at least as extreme.
    assert paired_permutation([1.0, 1.0, -2.0]) == 1.0
    # Holm, five tests: 5×0.01, 4×0.02, 3×0.03, then monotone: 0.05, 0.08, 0.09, 0.09, 0.09.
    adjusted = holm([0.05, 0.01, 0.04, 0.02, 0.03])
    expected = [0.09, 0.05, 0.09, 0.08, 0.09]
    assert all(math.isclose(a, e) for a, e in zip(adjusted, expected, strict=True))
