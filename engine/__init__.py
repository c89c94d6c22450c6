"""inspect-run: a declarative, config-driven LLM evaluation engine.

`engine.run(overrides=[...])` takes the same overrides as the `inspect-run` command and returns the
`EvalResult`; `engine.sweep(...)` takes those of `inspect-run -m` and returns the `SweepOutcome`
(jobs, folder, comparison). The API for your own components (`engine.scorer`, `engine.TaskState`,
`engine.Score`, …) is documented in `engine.components`. Every error inspect-run raises on
purpose derives from `engine.InspectRunError` (the tree is drawn in `engine.errors`). Everything
else is imported lazily so that `import engine` stays cheap.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from engine.errors import InspectRunError

if TYPE_CHECKING:
    from engine.components import (
        CORRECT,
        INCORRECT,
        NOANSWER,
        PARTIAL,
        ChatMessage,
        GenerationConfig,
        Metric,
        Model,
        ModelOutput,
        ModelUsage,
        Reducer,
        Score,
        Scorer,
        ScoreValue,
        Solver,
        Target,
        TaskState,
        assistant,
        generate,
        get_model,
        metric,
        reducer,
        scorer,
        solver,
        system,
        user,
        value_to_float,
    )
    from engine.runner import EvalResult
    from engine.sweeps import SweepOutcome

__all__ = [
    "CORRECT",
    "INCORRECT",
    "NOANSWER",
    "PARTIAL",
    "ChatMessage",
    "GenerationConfig",
    "InspectRunError",
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
    "run",
    "scorer",
    "solver",
    "sweep",
    "system",
    "user",
    "value_to_float",
]
_COMPONENT_API = frozenset(__all__) - {"run", "sweep", "InspectRunError"}
__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    """The component API, imported on first use (`engine.scorer`, `engine.TaskState`, …)."""
    if name in _COMPONENT_API:
        import engine.components

        return getattr(engine.components, name)
    raise AttributeError(f"module 'engine' has no attribute {name!r}")


def run(
    overrides: Sequence[str] = (),
    config_dirs: Sequence[str | Path] = (),
    display: str = "none",
) -> EvalResult:
    """Compose, validate, plan and run one eval, exactly as the CLI does.

    Raises `engine.config.ConfigError` (listing every problem) before any request is sent.
    """
    from engine.config import ConfigError, compose_config, extra_config_dirs, load_dotenv
    from engine.runner import all_problems, make_display, run_composed

    load_dotenv()
    overrides = [*overrides, f"display={display}"]
    try:
        composed = compose_config(overrides, config_dirs)
    except ConfigError:  # also what the first problems hide (a misspelt solver behind a key)
        with extra_config_dirs(config_dirs):
            raise ConfigError(all_problems(overrides)) from None
    return run_composed(composed, display=make_display(composed.config.display))


def sweep(
    overrides: Sequence[str] = (),
    config_dirs: Sequence[str | Path] = (),
    display: str = "none",
) -> SweepOutcome:
    """Run a sweep exactly as `inspect-run -m` does: every job validated first (raising
    `engine.config.ConfigError`), done jobs reused, the rest run, then compared."""
    from engine.config import ConfigError, extra_config_dirs, load_dotenv
    from engine.sweeps import every_sweep_problem, run_sweep

    load_dotenv()
    overrides = [*overrides, f"display={display}"]
    try:
        return run_sweep(overrides, config_dirs)
    except ConfigError as error:  # also what the first problems hide, in every job
        with extra_config_dirs(config_dirs):
            raise every_sweep_problem(error, overrides) from None
