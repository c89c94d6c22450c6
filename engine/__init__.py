"""inspect-run: a declarative, config-driven LLM evaluation engine.

`engine.run(overrides=[...])` takes the same overrides as the `inspect-run` command and returns the
`EvalResult`. Everything else is imported lazily so that `import engine` stays cheap.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.runner import EvalResult

__all__ = ["run"]
__version__ = "0.1.0"


def run(
    overrides: Sequence[str] = (),
    config_dirs: Sequence[str | Path] = (),
    display: str = "none",
) -> EvalResult:
    """Compose, validate, plan and run one eval, exactly as the CLI does.

    Raises `engine.config.ConfigError` (listing every problem) before any request is sent.
    """
    from engine.config._compose import compose_config, load_dotenv
    from engine.runner import make_display, run_composed

    load_dotenv()
    composed = compose_config([*overrides, f"display={display}"], config_dirs)
    return run_composed(composed, display=make_display(composed.config.display))
