"""Each formula behind intervals, clustered errors, power and agreement, against worked examples
from the literature (or a computation by hand, shown in the test)."""

from __future__ import annotations

import math

import pytest

from engine.compare._stats import (
    category_counts,
    cluster_permutation,
    clustered_stderr,
    cohen_kappa,
    fleiss_kappa,
    mcnemar_exact,
    mean_interval,
    minimum_detectable_effect,
    newcombe_paired,
    paired_permutation,
    plain_stderr,
    wilson,
)


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [
        # Newcombe (1998), "Two-sided confidence intervals for the single proportion", Table II,
        # method 3 (Wilson score interval without continuity correction).
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0000, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_interval_matches_newcombe_1998(
    successes: int, n: int, low: float, high: float
) -> None:
    assert wilson(successes, n) == (pytest.approx(low, abs=5e-5), pytest.approx(high, abs=5e-5))


def test_newcombe_paired_interval_matches_the_published_example() -> None:
    # Complete response before and after consolidation therapy (Cavo et al. 2012), as worked in
    # Fagerland, Lydersen & Laake, "Statistical Analysis of Contingency Tables" (2017), ch. 8:
    # 59 both, 6 first only, 16 second only, 80 neither → −0.0621 (−0.1186 to −0.0046).
    low, high = newcombe_paired(59, 6, 16, 80)
    estimate = (6 - 16) / 161
    assert estimate == pytest.approx(-0.0621, abs=5e-5)
    assert (low, high) == (pytest.approx(-0.1186, abs=5e-5), pytest.approx(-0.0046, abs=5e-5))


def test_newcombe_paired_interval_is_wide_on_a_handful_of_agreeing_pairs() -> None:
    # Three pairs, all right on both sides: the difference is 0 but far from known.
    low, high = newcombe_paired(3, 0, 0, 0)
    assert low < -0.4 and high > 0.4


def test_mcnemar_exact_by_hand() -> None:
    # 1 vs 9 discordant pairs: P(X ≤ 1 | n=10, p=1/2) = 11/1024, doubled.
    assert mcnemar_exact(1, 9) == pytest.approx(22 / 1024)
    assert mcnemar_exact(0, 0) == 1.0


def test_cohen_kappa_on_the_standard_two_by_two_example() -> None:
    # 50 items: both yes 20, A yes B no 5, A no B yes 10, both no 15 (the textbook example):
    # pₒ = 0.7, pₑ = 0.5·0.6 + 0.5·0.4 = 0.5, κ = 0.4; Cohen's SE √(0.7·0.3 / (50·0.25)) = 0.1296.
    first = ["yes"] * 25 + ["no"] * 25
    second = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    kappa, se = cohen_kappa(first, second)
    assert kappa == pytest.approx(0.4)
    assert se == pytest.approx(math.sqrt(0.21 / 12.5))


def test_fleiss_kappa_on_the_worked_example() -> None:
    # 10 subjects, 14 raters, 5 categories (the worked example of Fleiss' κ, e.g. Wikipedia's):
    # P̄ = 0.378, P̄ₑ = 0.213, κ = 0.210.
    table = [
        [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
    ]  # fmt: skip
    assert fleiss_kappa(table) == pytest.approx(0.210, abs=5e-4)


def test_fleiss_kappa_of_two_raters_is_scotts_pi() -> None:
    # Two raters, 4 items: (C,C) (C,I) (I,I) (I,I): pₒ = 3/4, pooled shares C 3/8, I 5/8,
    # pₑ = 9/64 + 25/64 = 34/64 → π = (48/64 − 34/64) / (30/64) = 14/30.
    counts = category_counts([["C", "C"], ["C", "I"], ["I", "I"], ["I", "I"]])
    assert fleiss_kappa(counts) == pytest.approx(14 / 30)
    with pytest.raises(ValueError, match="same number"):
        fleiss_kappa([[2, 0], [1, 0]])


def test_clustered_stderr_by_hand() -> None:
    # Values 1,1 | 0,0 | 1,0 in three clusters: mean 1/2; cluster deviation sums 1, −1, 0;
    # variance sum 2, times C/(C−1) = 3/2 → 3; SE = √3 / 6.
    values = [1.0, 1.0, 0.0, 0.0, 1.0, 0.0]
    clusters = ["a", "a", "b", "b", "c", "c"]
    assert clustered_stderr(values, clusters) == pytest.approx(math.sqrt(3) / 6)
    # Singleton clusters: Σ(xᵢ − x̄)² · n/(n−1) / n² = s²/n, the ordinary standard error.
    assert clustered_stderr(values, list("uvwxyz")) == pytest.approx(plain_stderr(values))


def test_clustered_interval_is_wider_when_clusters_move_together() -> None:
    values = [1.0] * 10 + [0.0] * 10
    together = ["a"] * 5 + ["b"] * 5 + ["c"] * 5 + ["d"] * 5
    _, low, high = mean_interval(values)
    se, clow, chigh = mean_interval(values, together)
    assert se == pytest.approx(clustered_stderr(values, together))
    assert clow < low and chigh > high
    # 0/1 scores keep a Wilson interval, on n / design effect: still inside [0, 1].
    deff = (se / math.sqrt(0.25 / 20)) ** 2
    assert (clow, chigh) == wilson(0.5 * 20 / deff, 20 / deff)


def test_minimum_detectable_effect_is_the_standard_normal_formula() -> None:
    # (z₀.₉₇₅ + z₀.₈₀) · SE = (1.95996 + 0.84162) · SE = 2.8016 · SE.
    assert minimum_detectable_effect(0.05) == pytest.approx(0.05 * 2.8016, abs=1e-5)
    assert minimum_detectable_effect(1.0, alpha=0.01, power=0.9) == pytest.approx(
        2.5758 + 1.2816, abs=1e-4
    )


def test_cluster_permutation_flips_whole_clusters() -> None:
    # Differences +1,+1 in cluster a, +1 in b: cluster sums 2 and 1 → 4 sign flips, 1 as extreme
    # on each side = p 2/4 (as if two samples, not three).
    assert cluster_permutation([1.0, 1.0, 1.0], ["a", "a", "b"]) == paired_permutation([2.0, 1.0])
    assert cluster_permutation([1.0, 1.0, 1.0], ["a", "a", "b"]) == 0.5
