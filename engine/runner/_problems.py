"""Every problem of composing and planning a run's overrides at once (`all_problems`), also those
a first problem hides: what `inspect-run` prints for a bad config, `validate` for each task, preset
and sweep job, and `engine.run` raises.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.config import Composed, ConfigError, Problem, compose_config

_REPAIRS = 3
"""How many times a failed composition is tried again without the keys at fault."""


def repairable(problem: Problem) -> bool:
    """A key a file set wrongly, which composing again without it can do without."""
    return (
        bool(problem.key)
        and problem.source is not None
        and not problem.source.startswith(("command line", "environment"))
        and problem.message != "required but not set"
    )


def all_problems(
    overrides: Sequence[str], *, connect: bool = False, composed: Composed | None = None
) -> list[Problem]:
    """Every problem of composing and planning `overrides`, also those a first problem hides.

    A failed composition is tried again without the keys at fault, so the plan still
    runs and finds, say, a misspelt solver in a task file whose other key is misspelt too.
    `composed`: `overrides` already composed without problems (only the plan is left to check)."""
    from engine.runner._plan import build_plan

    problems: list[Problem] = []
    removed: list[str] = []
    overrides = list(overrides)
    for _ in range(_REPAIRS + 1):
        try:
            if composed is None:
                composed = compose_config(overrides, without=removed)
        except ConfigError as error:
            gone = tuple(f"{key}." for key in removed)
            fresh = [
                p
                for p in error.problems
                if p.key not in removed and not p.key.startswith(gone) and p not in problems
            ]
            problems += fresh
            typed = {p.key for p in fresh if (p.source or "").startswith("command line")}
            kept = [o for o in overrides if o.split("=")[0].lstrip("+~") not in typed]
            repairs = [p.key for p in fresh if repairable(p)]
            if not repairs and kept == overrides:
                break
            removed += repairs
            overrides = kept
            continue
        try:
            build_plan(composed, fetch=False, connect=connect)
        except ConfigError as error:
            problems += [p for p in error.problems if p not in problems]
        break
    return problems
