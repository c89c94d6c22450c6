"""The one registry: arguments checked against names and type annotations, a user's file found
only in the task directories, Inspect's calling conventions, and the public decorators."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine import Score, TaskState, metric, scorer, solver
from engine._usercode import using_code_dirs
from engine.datasets import Sample
from engine.registry import COMPONENT_MARK, RegistryError
from engine.scorers import metrics, reducers, scorers
from engine.solvers import solvers


@pytest.mark.parametrize(
    ("registry", "spec", "message"),
    [
        (solvers, {"multiple_choice": {"shuffle": "maybe"}}, "argument 'shuffle' expects bool"),
        (scorers, {"match": {"numeric": "perhaps"}}, "argument 'numeric' expects bool"),
        (scorers, {"match": {"location": "middle"}}, "location must be one of begin, end, any"),
        (scorers, {"model_graded_fact": {"role": 3}}, "'role' expects str | list[str], got 3"),
        (metrics, {"bootstrap_stderr": {"num_samples": "many"}}, "'num_samples' expects int"),
        (reducers, {"pass_at": {"k": "two"}}, "argument 'k' expects int, got 'two'"),
        (solvers, {"prompt_template": {"template": 42}}, "'template' expects str, got 42"),
    ],
)
def test_arguments_are_validated_against_their_annotations(
    registry: object, spec: dict[str, dict[str, object]], message: str
) -> None:
    with pytest.raises(RegistryError, match=re.escape(message)):
        registry.create(spec)  # type: ignore[attr-defined]


def test_validated_arguments_reach_the_factory_converted() -> None:
    name, args, _ = solvers.create({"multiple_choice": {"shuffle": "true"}})
    assert (name, args) == ("multiple_choice", {"shuffle": "true"})  # logged as written


def test_reducers_are_in_the_registry_with_inspects_names() -> None:
    assert reducers.names() == ["at_least", "max", "mean", "median", "mode", "pass_at", "pass_k"]
    name, args, reduce = reducers.create("pass_at_2")
    assert (name, args) == ("pass_at_2", {})
    assert reduce([1.0, 0.0, 0.0, 0.0]) == pytest.approx(0.5)
    with pytest.raises(RegistryError, match="unknown epoch reducer 'meen'; did you mean 'mean'"):
        reducers.create("meen")


COMPONENTS = """\
from engine import Score, scorer, solver

@scorer(name="always")
def always_correct():
    async def score(state, target):  # Inspect's form
        return Score("C", answer=target.text)
    return score

@solver
def adds_a_note():
    async def solve(state, generate):
        state.metadata["note"] = callable(generate)
        return state
    return solve

async def bare(state):
    return Score("C")

def not_a_factory():
    return 42
"""


@pytest.fixture
def code_dir(tmp_path: Path) -> Path:
    (tmp_path / "mine.py").write_text(COMPONENTS)
    return tmp_path


def state() -> TaskState:
    return TaskState.start(Sample(input="q", target=["a", "b"]), 1, None, {})


@pytest.mark.anyio
async def test_inspects_calling_conventions_work(code_dir: Path) -> None:
    with using_code_dirs([code_dir]):
        name, _, score = scorers.create("mine.py:always_correct")
        _, _, solve = solvers.create("mine.py:adds_a_note")
        assert scorers.create("mine.py:always")[0] == "always"  # found by its decorated name
    assert name == "always"
    assert await score(state()) == Score("C", answer="ab")
    assert (await solve(state())).metadata["note"] is True


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("mine.py:bare", "is an async function: give a factory that returns it"),
        ("mine.py:not_a_factory", "returned a int, not a scorer"),
        ("mine.py:adds_a_note", "is a solver, not a scorer"),
        ("mine.py", "name the function, as in mine.py:FUNCTION"),
        ("mine.py:alwys_correct", "did you mean 'always_correct'?"),
    ],
)
def test_a_users_file_is_checked(code_dir: Path, reference: str, message: str) -> None:
    with using_code_dirs([code_dir]), pytest.raises(RegistryError, match=message):
        scorers.create(reference)


def test_a_users_file_loads_only_inside_the_task_directories(code_dir: Path) -> None:
    with pytest.raises(RegistryError, match=r"not found in the task directories: \(none"):
        scorers.create("mine.py:always_correct")  # no run is being planned: nowhere to load from
    with using_code_dirs([code_dir / "sub"]), pytest.raises(RegistryError, match="outside"):
        scorers.create("../mine.py:always_correct")


def test_the_decorators_mark_kind_and_name() -> None:
    @metric
    def share() -> object:
        return len

    @solver(name="renamed")
    def original() -> object:
        return print

    assert getattr(share, COMPONENT_MARK) == ("metric", "share")
    assert getattr(original, COMPONENT_MARK) == ("solver", "renamed")
    assert scorer.kind == "scorer"
