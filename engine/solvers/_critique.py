"""`self_critique`: a critic reads the answer, the model under test revises it; and `chain`."""

from __future__ import annotations

from typing import Any

from engine.messages import user
from engine.registry import Uses
from engine.solvers._builtins import check_template, format_template
from engine.solvers._registry import solvers
from engine.solvers._state import Solver, TaskState

DEFAULT_CRITIQUE_TEMPLATE = """\
Given the following question and answer, please critique the answer. A good answer comprehensively \
answers the question and NEVER refuses to answer. If the answer is already correct do not provide \
critique - simply respond 'The original answer is fully correct'.

[BEGIN DATA]
***
[Question]: {question}
***
[Answer]: {completion}
***
[END DATA]

Critique: """

DEFAULT_COMPLETION_TEMPLATE = """\
Given the following question, initial answer and critique please generate an improved answer to \
the question:

[BEGIN DATA]
***
[Question]: {question}
***
[Answer]: {completion}
***
[Critique]: {critique}
***
[END DATA]

If the original answer is already correct, just repeat the original answer exactly. You should \
just provide your answer to the question in exactly this format:

Answer: <your answer>"""


_CRITIQUE_FIELDS = ("question", "completion")


@solvers.register(
    "self_critique",
    Uses(
        model=True,
        templates={
            "critique_template": _CRITIQUE_FIELDS,
            "completion_template": (*_CRITIQUE_FIELDS, "critique"),
        },
    ),
)
def self_critique(
    critique_template: str = DEFAULT_CRITIQUE_TEMPLATE,
    completion_template: str = DEFAULT_COMPLETION_TEMPLATE,
    role: str = "critic",
) -> Solver:
    """After `generate`: the `role` model critiques the answer, then the model under test answers
    again with the critique in view. An unbound role falls back to the model under test."""
    check_template(critique_template, "self_critique critique_template")
    check_template(completion_template, "self_critique completion_template")

    async def solve(state: TaskState) -> TaskState:
        if state.output is None:
            raise ValueError("self_critique needs an answer to critique: put `generate` before it")
        values = {
            **state.metadata,
            "question": state.sample.input_text,
            "completion": state.output.completion,
        }
        critic = state.role(role)
        critique = await critic.generate([user(format_template(critique_template, values))])
        values["critique"] = critique.completion
        state.messages.append(user(format_template(completion_template, values)))
        state.output = await state.require_model().generate(state.messages)
        state.messages.append(state.output.message)
        return state

    return solve


@solvers.register("chain", Uses(nested="solvers"))
def chain(solvers: list[Any]) -> Solver:
    """Several solvers run in order as one (a named, reusable step in a longer list)."""
    from engine.solvers._registry import solvers as registry

    steps = [registry.create(spec)[2] for spec in solvers]

    async def solve(state: TaskState) -> TaskState:
        for step in steps:
            state = await step(state)
        return state

    return solve
