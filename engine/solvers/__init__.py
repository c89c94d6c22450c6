"""Solvers: what happens to a sample before it is scored (prompting, generating, ...)."""

from engine.solvers._builtins import (
    format_template,
    generate,
    prompt_template,
    system_message,
)
from engine.solvers._registry import solvers
from engine.solvers._state import RoleUnboundError, Solver, TaskState

__all__ = [
    "RoleUnboundError",
    "Solver",
    "TaskState",
    "format_template",
    "generate",
    "prompt_template",
    "solvers",
    "system_message",
]
