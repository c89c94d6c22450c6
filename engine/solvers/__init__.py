"""Solvers: what happens to a sample before it is scored (prompting, generating, ...)."""

from engine.solvers._builtins import (
    chain_of_thought,
    check_template,
    format_template,
    generate,
    placeholders,
    prompt_template,
    system_message,
    user_message,
)
from engine.solvers._critique import chain, self_critique
from engine.solvers._multiple_choice import (
    answer_letters,
    find_answer,
    letter,
    letter_index,
    multiple_choice,
)
from engine.solvers._registry import generate_reply, solvers, takes_two
from engine.solvers._state import (
    RoleUnboundError,
    Solver,
    Target,
    TaskState,
    current_state,
    get_model,
)

__all__ = [
    "RoleUnboundError",
    "Solver",
    "Target",
    "TaskState",
    "answer_letters",
    "chain",
    "chain_of_thought",
    "check_template",
    "current_state",
    "find_answer",
    "format_template",
    "generate",
    "generate_reply",
    "get_model",
    "letter",
    "letter_index",
    "multiple_choice",
    "placeholders",
    "prompt_template",
    "self_critique",
    "solvers",
    "system_message",
    "takes_two",
    "user_message",
]
