"""The public API for your own solvers, scorers, metrics and epoch reducers.

A component is a *factory*: YAML names it with arguments, the factory checks them once while the
run is planned and returns the function that runs per sample (or, for metrics and reducers, over
values). Arguments are validated against the factory's type annotations, so annotate them.

    # tasks/my_scorers.py, beside your conf/
    from engine import CORRECT, INCORRECT, Score, Scorer, TaskState, scorer

    @scorer
    def keyword_overlap(min_overlap: float = 0.5) -> Scorer:
        async def score(state: TaskState) -> Score:
            words = set(state.output.completion.lower().split()) if state.output else set()
            wanted = set(state.target.text.lower().split())
            share = len(words & wanted) / len(wanted) if wanted else 0.0
            return Score(CORRECT if share >= min_overlap else INCORRECT, answer=f"{share:.2f}")
        return score

    # conf/task/my_task.yaml
    scorers:
      - my_scorers.py:keyword_overlap: {min_overlap: 0.6}

What each kind returns:

- solver: `async (state: TaskState) -> TaskState`; it may call `await generate(state)` (or any
  model, `state.role("critic")`, `get_model(role=…)`) as many times as it needs.
- scorer: `async (state: TaskState) -> Score`; `state.output`, `state.messages`, `state.target`,
  `state.metadata`; a grader is `get_model(role="grader")`.
- metric: `(values: list[float]) -> float`, over each sample's (epoch-reduced) score as a number
  (`value_to_float`: C=1, P=0.5, I=N=0).
- reducer: `(values: list[float]) -> float`, one sample's values across epochs.

Inspect's two-argument forms also work: a solver `solve(state, generate)` and a scorer
`score(state, target)`.

Where components come from: a file in a task directory (`FILE.py:NAME`, `tasks/` beside your config
dirs), or an installed package through the entry point groups `inspect_run.solvers`,
`inspect_run.scorers`, `inspect_run.metrics` and `inspect_run.reducers`
(`keyword_overlap = "my_package.scorers:keyword_overlap"`). The decorators mark a factory's kind
(naming a scorer where a solver is expected is an error) and, optionally, its name in logs;
`inspect-run list` finds decorated factories in your task directories.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, overload

from engine.config import GenerationConfig
from engine.messages import (
    ChatMessage,
    Content,
    ContentImage,
    ContentText,
    ModelOutput,
    ModelUsage,
    assistant,
    system,
    user,
)
from engine.models import Model
from engine.registry import COMPONENT_MARK
from engine.scorers import (
    CORRECT,
    INCORRECT,
    NOANSWER,
    PARTIAL,
    Metric,
    Reducer,
    Score,
    Scorer,
    ScoreValue,
    value_to_float,
)
from engine.solvers import Solver, Target, TaskState, get_model
from engine.solvers import generate_reply as generate

__all__ = [
    "CORRECT",
    "INCORRECT",
    "NOANSWER",
    "PARTIAL",
    "ChatMessage",
    "Content",
    "ContentImage",
    "ContentText",
    "GenerationConfig",
    "Metric",
    "Model",
    "ModelOutput",
    "ModelUsage",
    "Reducer",
    "Score",
    "ScoreValue",
    "Scorer",
    "Solver",
    "Target",
    "TaskState",
    "assistant",
    "generate",
    "get_model",
    "metric",
    "reducer",
    "scorer",
    "solver",
    "system",
    "user",
    "value_to_float",
]

F = TypeVar("F", bound=Callable[..., Any])


class ComponentDecorator:
    """`@scorer` or `@scorer(name="…")`: marks a factory's kind and the name it goes by in logs
    (its function name by default). The factory itself is returned unchanged."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    @overload
    def __call__(self, factory: F, /) -> F: ...

    @overload
    def __call__(self, *, name: str | None = None) -> Callable[[F], F]: ...

    def __call__(self, factory: Any = None, *, name: str | None = None) -> Any:
        def mark(function: F) -> F:
            setattr(function, COMPONENT_MARK, (self.kind, name or function.__name__))
            return function

        return mark(factory) if factory is not None else mark

    def __repr__(self) -> str:
        return f"<engine.{self.kind} decorator>"


solver = ComponentDecorator("solver")
scorer = ComponentDecorator("scorer")
metric = ComponentDecorator("metric")
reducer = ComponentDecorator("reducer")
