"""Epoch reducers against a table: one sample's values across epochs → one value."""

from __future__ import annotations

import pytest

from engine.scorers import check_reducers, reduce_epochs

CASES: list[tuple[str, list[float], float]] = [
    ("mean", [1.0, 0.0, 1.0, 1.0], 0.75),
    ("mean", [0.5], 0.5),
    ("median", [1.0, 0.0, 0.0], 0.0),
    ("median", [0.0, 1.0, 0.5, 1.0], 0.75),
    ("mode", [1.0, 0.0, 1.0], 1.0),
    ("mode", [1.0, 0.0], 0.0),  # a tie: the lowest
    ("max", [0.0, 0.5, 0.0], 0.5),
    ("pass_at_1", [1.0, 0.0, 0.0, 0.0], 0.25),
    ("pass_at_2", [1.0, 0.0, 0.0, 0.0], 0.5),  # 1 - C(3,2)/C(4,2) = 1 - 3/6
    ("pass_at_2", [0.0, 0.0, 0.0], 0.0),
    ("pass_at_3", [1.0, 0.0, 0.0], 1.0),
    ("pass_at_2", [0.5, 0.5, 1.0], 2 / 3),  # only a full score counts as a pass
    ("pass_at_3", [0.0, 0.0], 0.0),  # an epoch failed: two tries, neither passed
    ("pass_at_3", [0.0, 1.0], 1.0),
]


@pytest.mark.parametrize(("name", "values", "expected"), CASES)
def test_reducer(name: str, values: list[float], expected: float) -> None:
    assert reduce_epochs(name, [values]) == [pytest.approx(expected)]


def test_each_sample_is_reduced_on_its_own() -> None:
    assert reduce_epochs("max", [[0.0, 1.0], [0.0, 0.0], []]) == [1.0, 0.0]


@pytest.mark.parametrize(
    ("names", "epochs", "message"),
    [
        (["avg"], 3, "unknown epoch reducer 'avg'"),
        (["meen"], 3, "did you mean 'mean'"),
        (["pass_at_4"], 3, "pass_at_4 needs at least 4 epochs, got 3"),
        (["pass_at_0"], 3, "pass_at_K needs K >= 1"),
    ],
)
def test_bad_reducers_are_found_at_planning(names: list[str], epochs: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_reducers(names, epochs)


def test_good_reducers_pass() -> None:
    check_reducers(["mean", "median", "mode", "max", "pass_at_3"], 3)
