"""Prompting solvers: `system_message`, `user_message`, `prompt_template`, `chain_of_thought`
and `generate`.

Each is a factory registered by name; its arguments come from YAML and are checked when the task is
planned (a bad template or generation key fails before any sample runs), not on the first sample.
"""

from __future__ import annotations

import dataclasses
import re
import string
from collections.abc import Mapping
from typing import Any

from engine.config import GenerationConfig
from engine.messages import ChatMessage, Content, ContentText, system, user
from engine.registry import Uses
from engine.solvers._registry import solvers
from engine.solvers._state import Solver, TaskState


class _Unknown:
    """A placeholder with no value: rendered back as written, braces and all."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


class _LenientFormatter(string.Formatter):
    """`str.format` that leaves unknown `{field}`s intact, so templates may mention literal braces
    or fields a sample lacks without failing mid-run."""

    def get_field(self, field_name: str, args: Any, kwargs: Any) -> Any:
        try:
            return super().get_field(field_name, args, kwargs)
        except (KeyError, AttributeError, IndexError, TypeError):
            return _Unknown(field_name), field_name

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        if isinstance(value, _Unknown):
            return _Unknown(f"{value.text}!{conversion}") if conversion else value
        return super().convert_field(value, conversion)

    def format_field(self, value: Any, format_spec: str) -> str:
        if isinstance(value, _Unknown):
            return "{" + value.text + (f":{format_spec}" if format_spec else "") + "}"
        return super().format_field(value, format_spec)


_FORMATTER = _LenientFormatter()


def format_template(template: str, values: Mapping[str, Any]) -> str:
    """Fill `{field}` placeholders from `values`; unknown ones stay as written, `{{`/`}}` escape."""
    return _FORMATTER.vformat(template, (), values)


def check_template(template: str, what: str) -> None:
    """Fail at planning time on a template `str.format` cannot parse (e.g. a lone `{`)."""
    try:
        list(_FORMATTER.parse(template))
    except ValueError as error:
        raise ValueError(
            f"{what} cannot be parsed ({error}); write literal braces as {{{{ }}}}"
        ) from None


_FIELD_NAME = re.compile(r"[A-Za-z_]\w*")


def placeholders(template: str) -> list[str]:
    """The names a template fills: `{prompt}`, `{meta.key}` and `{items[0]}` give prompt, meta,
    items. Brace text that is not a name (`{"a": 1}`) is literal and stays as written."""
    names: list[str] = []
    for _, field, _, _ in _FORMATTER.parse(template):
        first = re.split(r"[.\[]", field or "", maxsplit=1)[0]
        if _FIELD_NAME.fullmatch(first) and first not in names:
            names.append(first)
    return names


@solvers.register("system_message", Uses(templates={"template": ()}))
def system_message(template: str) -> Solver:
    """Add a system message; `{field}`s come from the sample metadata.

    It goes after any system messages already at the start, so a chain of them keeps its order.
    """
    check_template(template, "system_message template")

    async def solve(state: TaskState) -> TaskState:
        position = 0
        while position < len(state.messages) and state.messages[position].role == "system":
            position += 1
        state.messages.insert(position, system(format_template(template, state.metadata)))
        return state

    return solve


@solvers.register("prompt_template", Uses(templates={"template": ("prompt",)}))
def prompt_template(template: str) -> Solver:
    """Rewrite the last user message: `{prompt}` is its text, other `{field}`s the metadata."""
    check_template(template, "prompt_template template")

    async def solve(state: TaskState) -> TaskState:
        position = last_user_index(state, "prompt_template")
        message = state.messages[position]
        text = format_template(template, {**state.metadata, "prompt": message.text})
        state.messages[position] = with_text(message, text)
        return state

    return solve


def last_user_index(state: TaskState, who: str) -> int:
    """Where the last user message is; a solver that rewrites the prompt needs one."""
    for position in range(len(state.messages) - 1, -1, -1):
        if state.messages[position].role == "user":
            return position
    raise ValueError(f"{who}: the conversation has no user message to rewrite")


def with_text(message: ChatMessage, text: str) -> ChatMessage:
    """A copy of `message` whose text parts become `text`; images and other parts stay.

    A new message, not an edit: the original may be shared with the sample's input.
    """
    content: str | list[Content] = (
        text
        if isinstance(message.content, str)
        else [ContentText(text), *(p for p in message.content if not isinstance(p, ContentText))]
    )
    return dataclasses.replace(message, content=content)


@solvers.register("generate", Uses(model=True))
def generate(role: str | None = None, **overrides: Any) -> Solver:
    """Call the model under test (or the model playing `role`) and append its reply.

    `overrides` are generation settings, validated here at planning time so a misspelt key is a
    config error. With `role`, a task can run with `model=none` and use roles only.
    """
    config = GenerationConfig(**overrides) if overrides else None

    async def solve(state: TaskState) -> TaskState:
        model = state.require_model() if role is None else state.role(role)
        output = await model.generate(state.messages, config)
        state.messages.append(output.message)
        state.output = output
        return state

    return solve


@solvers.register("user_message", Uses(templates={"template": ()}))
def user_message(template: str) -> Solver:
    """Append a user message; `{field}`s come from the sample metadata."""
    check_template(template, "user_message template")

    async def solve(state: TaskState) -> TaskState:
        state.messages.append(user(format_template(template, state.metadata)))
        return state

    return solve


DEFAULT_COT_TEMPLATE = """\
{prompt}

Before answering, reason in a step-by-step manner as to get the right answer. Provide your answer \
at the end on its own line in the form "ANSWER: $ANSWER" (without quotes) where $ANSWER is the \
answer to the question."""


@solvers.register("chain_of_thought", Uses(templates={"template": ("prompt",)}))
def chain_of_thought(template: str = DEFAULT_COT_TEMPLATE) -> Solver:
    """Ask for step-by-step reasoning and a final `ANSWER:` line (pairs with the `answer` scorer)."""
    return prompt_template(template)
