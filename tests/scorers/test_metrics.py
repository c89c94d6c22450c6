"""Built-in metrics, created through the registry as a task config names them."""

from __future__ import annotations

import math
import statistics

import pytest

from engine.registry import RegistryError
from engine.scorers import Metric, Score, metrics, value_to_float


def metric(name: str) -> Metric:
    created: Metric = metrics.create(name)[2]
    return created


@pytest.mark.parametrize(
    ("name", "values", "expected"),
    [
        ("accuracy", [1.0, 0.0, 1.0, 1.0], 0.75),
        ("accuracy", [1.0, 0.5, 0.0], 0.5),
        ("mean", [2.0, 4.0, 9.0], 5.0),
        (
            "std",
            [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0],
            statistics.stdev([2, 4, 4, 4, 5, 5, 7, 9]),
        ),
        ("std", [1.0, 0.0], math.sqrt(0.5)),
        ("stderr", [1.0, 0.0, 1.0, 1.0], math.sqrt(0.25) / 2),
        ("stderr", [3.0, 3.0, 3.0], 0.0),
    ],
)
def test_values(name: str, values: list[float], expected: float) -> None:
    assert metric(name)(values) == pytest.approx(expected)


@pytest.mark.parametrize("name", ["accuracy", "mean", "std", "stderr", "bootstrap_stderr"])
@pytest.mark.parametrize("values", [[], [1.0]])
def test_too_few_values_give_zero_not_nan(name: str, values: list[float]) -> None:
    expected = values[0] if values and name in ("accuracy", "mean") else 0.0
    assert metric(name)(values) == expected


def test_stderr_uses_sample_std() -> None:
    values = [0.0, 1.0, 1.0, 0.0, 1.0]
    assert metric("stderr")(values) == pytest.approx(
        statistics.stdev(values) / math.sqrt(len(values))
    )
    assert metric("std")(values) != pytest.approx(statistics.pstdev(values))


def test_accuracy_over_letter_scores() -> None:
    scores = [Score("C"), Score("I"), Score("P"), Score("N"), Score(True), Score("yes")]
    assert metric("accuracy")([s.as_float() for s in scores]) == pytest.approx(3.5 / 6)
    assert value_to_float("C") == 1.0


VALUES = [
    "C",
    "I",
    "P",
    "N",
    "c",
    " C ",
    "yes",
    "No",
    "TRUE",
    "false",
    "correct",
    "1",
    " 2 ",
    "1e3",
]
VALUES += ["-0.5", "nan", "inf", "abc", "", True, False, 0, 3, 0.25, float("nan")]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_value_to_float_is_inspects(value: str | float | bool) -> None:
    from inspect_ai.scorer import value_to_float as inspect_value_to_float

    expected = inspect_value_to_float()(value)
    ours = value_to_float(value)
    assert ours == expected or (ours != ours and expected != expected)


def test_registry() -> None:
    assert {"accuracy", "mean", "std", "stderr"} <= set(metrics.names())
    with pytest.raises(RegistryError, match="unknown metric 'acuracy'; did you mean 'accuracy'"):
        metrics.create("acuracy")
    with pytest.raises(RegistryError, match="metric 'mean' has no argument 'ddof'"):
        metrics.create({"mean": {"ddof": 1}})


def test_bootstrap_stderr_is_close_to_the_analytic_stderr_and_reproducible() -> None:
    values = [1.0] * 60 + [0.0] * 40
    bootstrap = metric("bootstrap_stderr")(values)
    assert bootstrap == pytest.approx(metric("stderr")(values), rel=0.15)
    assert metric("bootstrap_stderr")(values) == bootstrap  # seeded: the same log twice
    assert metric("bootstrap_stderr")([0.5] * 10) == 0.0
    fewer = metrics.create({"bootstrap_stderr": {"num_samples": 50}})[2]
    assert fewer(values) == pytest.approx(bootstrap, rel=0.5)
    with pytest.raises(RegistryError, match="num_samples must be at least 2"):
        metrics.create({"bootstrap_stderr": {"num_samples": 1}})
