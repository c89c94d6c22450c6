"""The `inspect-run` command: one parser, one module per subcommand (see `engine.cli._main`).

Only this package and `engine.config` know that Hydra exists. Help, `--version` and usage errors
are answered without importing Hydra, pydantic or any SDK, so they are instant.
"""

from engine.cli._common import (
    EXIT_BAD_CONFIG,
    EXIT_BUSY,
    EXIT_FAILED,
    EXIT_INCONCLUSIVE,
    EXIT_INTERRUPTED,
    EXIT_OK,
)
from engine.cli._main import COMMANDS, build_parser, cli, main

__all__ = [
    "COMMANDS",
    "EXIT_BAD_CONFIG",
    "EXIT_BUSY",
    "EXIT_FAILED",
    "EXIT_INCONCLUSIVE",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "build_parser",
    "cli",
    "main",
]
