"""Epoch reducers against a table, and against Inspect's own reducers on random epochs."""

from __future__ import annotations

import math
import random

import pytest

from engine.scorers import check_reducers, reduce_epochs

CASES: list[tuple[str, list[float], float | None]] = [
    ("mean", [1.0, 0.0, 1.0, 1.0], 0.75),
    ("mean", [0.5], 0.5),
    ("median", [1.0, 0.0, 0.0], 0.0),
    ("median", [0.0, 1.0, 0.5, 1.0], 0.75),
    ("mode", [1.0, 0.0, 1.0], 1.0),
    ("mode", [1.0, 0.0], 1.0),  # a tie: the value seen first, as Inspect
    ("mode", [0.0, 1.0], 0.0),
    ("max", [0.0, 0.5, 0.0], 0.5),
    ("pass_at_1", [1.0, 0.0, 0.0, 0.0], 0.25),
    ("pass_at_2", [1.0, 0.0, 0.0, 0.0], 0.5),  # 1 - C(3,2)/C(4,2) = 1 - 3/6
    ("pass_at_2", [0.0, 0.0, 0.0], 0.0),
    ("pass_at_3", [1.0, 0.0, 0.0], 1.0),
    ("pass_at_2", [0.5, 0.5, 1.0], 2 / 3),  # only a full score counts as a pass
    ("pass_at_3", [0.0, 1.0], None),  # an epoch failed: fewer tries than K, unscored
    ("pass_k_2", [1.0, 1.0, 0.0], 1 / 3),  # C(2,2)/C(3,2)
    ("pass_k_2", [1.0], None),
    ("at_least_2", [1.0, 0.0, 1.0], 1.0),
    ("at_least_2", [1.0, 0.0, 0.5], 0.0),
    ({"at_least": {"k": 2, "value": 0.5}}, [1.0, 0.0, 0.5], 1.0),
    ({"pass_at": {"k": 1, "value": 0.5}}, [0.5, 0.0], 0.5),
]


@pytest.mark.parametrize(("name", "values", "expected"), CASES, ids=str)
def test_reducer(name: str, values: list[float], expected: float | None) -> None:
    reduced = reduce_epochs(name, [values])
    assert reduced == ([] if expected is None else [pytest.approx(expected)])


def test_each_sample_is_reduced_on_its_own() -> None:
    assert reduce_epochs("max", [[0.0, 1.0], [0.0, 0.0], []]) == [1.0, 0.0]


@pytest.mark.parametrize(
    ("names", "epochs", "message"),
    [
        (["avg"], 3, "unknown epoch reducer 'avg'"),
        (["meen"], 3, "did you mean 'mean'"),
        (["pass_at_4"], 3, "pass_at_4 needs at least 4 epochs, got 3"),
        (["pass_k_4"], 3, "pass_k_4 needs at least 4 epochs, got 3"),
        (["at_least_4"], 3, "at_least_4 needs at least 4 epochs, got 3"),
        (["pass_at_0"], 3, "K must be at least 1"),
    ],
)
def test_bad_reducers_are_found_at_planning(names: list[str], epochs: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_reducers(names, epochs)


def test_good_reducers_pass() -> None:
    check_reducers(["mean", "median", "mode", "max", "pass_at_3", "pass_k_3", "at_least_3"], 3)


INSPECT_NAMES = ["mean", "median", "mode", "max", "pass_at_2", "pass_k_2", "at_least_2"]


def test_reducers_agree_with_inspects_on_random_epochs() -> None:
    """C, P, I and N over 1-5 epochs (some failed, so fewer scored), every reducer, both engines:
    the same value, or both unscored."""
    from inspect_ai.scorer import Score, value_to_float
    from inspect_ai.scorer._reducer.registry import create_reducers

    to_float = value_to_float()
    draw = random.Random(11)
    compared = 0
    for name in INSPECT_NAMES:
        (theirs,) = create_reducers(name)
        for _ in range(300):
            grades = [draw.choice("CPIN") for _ in range(draw.randint(1, 5))]
            # README difference: our reducers see values (I and N are both 0), so for `mode`
            # an N counts as an I; Inspect counts them apart.
            seen = ["I" if name == "mode" and grade == "N" else grade for grade in grades]
            expected = to_float(theirs([Score(value=grade) for grade in seen]).value)
            ours = reduce_epochs(name, [[to_float(grade) for grade in grades]])
            if math.isnan(expected):
                assert ours == [], (name, grades)
            else:
                assert ours == [pytest.approx(expected)], (name, grades)
            compared += 1
    assert compared == 300 * len(INSPECT_NAMES)
