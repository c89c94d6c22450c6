"""Model-graded scorers: `model_graded_fact` and `model_graded_qa`.

A grader model (a role, else the model under test) reads the question, the answer and the target
and replies with a grade. A role bound to several models gives several graders; their grades are
reduced by majority, so one erratic grader does not decide a sample alone.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from engine.providers import Model, user
from engine.registry import Uses
from engine.scorers._builtins import _completion
from engine.scorers._registry import scorers
from engine.scorers._score import INCORRECT, PARTIAL, Score, Scorer, value_to_float
from engine.solvers._builtins import check_template, format_template
from engine.solvers._state import TaskState

DEFAULT_GRADE_PATTERN = r"(?i)GRADE\s*:\s*([CPI])"

DEFAULT_MODEL_GRADED_FACT_TEMPLATE = """\
You are checking a submitted answer against an expert answer to the same question.

[BEGIN DATA]
***
[Question]: {question}
***
[Expert answer]: {criterion}
***
[Submitted answer]: {answer}
***
[END DATA]

Compare the factual content of the submitted answer with the expert answer. Differences in style, \
wording, grammar, punctuation or length do not matter; what matters is whether the submission \
states the facts in the expert answer without contradicting them.

{instructions}"""

DEFAULT_MODEL_GRADED_QA_TEMPLATE = """\
You are assessing a submitted answer on a given task against a criterion.

[BEGIN DATA]
***
[Task]: {question}
***
[Submission]: {answer}
***
[Criterion]: {criterion}
***
[END DATA]

Does the submission meet the criterion?

{instructions}"""

_INSTRUCTIONS = """\
Reason step by step about whether the submission is right, then finish with a last line of the \
form "GRADE: X", where X is {letters}. Write nothing after that line."""

DEFAULT_INSTRUCTIONS = _INSTRUCTIONS.format(
    letters='C if the submission is correct or I if it is incorrect (for example "GRADE: C")'
)
DEFAULT_PARTIAL_INSTRUCTIONS = _INSTRUCTIONS.format(
    letters="C if the submission is correct, P if it is partially correct (some of the expert "
    "answer's facts, none contradicted) or I if it is incorrect"
)


def _model_graded(
    kind: str,
    default_template: str,
    template: str | None,
    instructions: str | None,
    grade_pattern: str,
    partial_credit: bool,
    role: str | list[str],
) -> Scorer:
    prompt_template = template if template is not None else default_template
    check_template(prompt_template, f"{kind} template")
    if instructions is None:
        instructions = DEFAULT_PARTIAL_INSTRUCTIONS if partial_credit else DEFAULT_INSTRUCTIONS
    try:
        pattern = re.compile(grade_pattern)
    except re.error as error:
        raise ValueError(f"grade_pattern {grade_pattern!r} is not a valid regex: {error}") from None
    roles = [role] if isinstance(role, str) else list(role)
    if not roles:
        raise ValueError("role needs at least one role name")

    async def grade_once(grader: Model, prompt_text: str, answer: str) -> Score:
        prompt = user(prompt_text)
        output = await grader.generate([prompt])
        reply = output.completion
        metadata = {
            "grader_model": grader.name,
            "grading": [prompt.to_log(), output.message.to_log()],
        }
        grades = list(pattern.finditer(reply))
        if not grades:
            return Score(
                INCORRECT,
                answer=answer,
                explanation=f"no grade found in grader reply: {reply}",
                metadata=metadata,
            )
        last = grades[-1]
        groups = [group for group in last.groups() if group is not None]
        grade = (groups[0] if groups else last.group(0)).strip().upper()
        if grade == PARTIAL and not partial_credit:
            grade = INCORRECT
        return Score(grade, answer=answer, explanation=reply, metadata=metadata)

    async def score(state: TaskState) -> Score:
        graders = [model for name in roles for model in state.role_models(name)]
        answer = _completion(state)
        prompt_text = format_template(
            prompt_template,
            {
                **state.metadata,
                "question": state.sample.input_text,
                "answer": answer,
                "criterion": "\n".join(state.sample.targets),
                "instructions": instructions,
            },
        )
        scores = [await grade_once(grader, prompt_text, answer) for grader in graders]
        return scores[0] if len(scores) == 1 else majority(scores)

    return score


def majority(scores: list[Score]) -> Score:
    """The most common grade; a tie goes to the lowest of the tied grades (the cautious reading)."""
    counts = Counter(score.value for score in scores)
    top = max(counts.values())
    tied = [value for value, count in counts.items() if count == top]
    winner = min(tied, key=value_to_float)
    votes: list[dict[str, Any]] = [
        {"value": score.value, **(score.metadata or {}), "explanation": score.explanation}
        for score in scores
    ]
    return Score(
        winner,
        answer=scores[0].answer,
        explanation=f"majority of {len(scores)} graders: "
        + ", ".join(f"{value}×{count}" for value, count in counts.most_common()),
        metadata={"votes": votes},
    )


_GRADER_TEMPLATE = Uses(templates={"template": ("question", "answer", "criterion", "instructions")})
"""The grader's template sees these fields and the sample's metadata."""


@scorers.register("model_graded_fact", _GRADER_TEMPLATE)
def model_graded_fact(
    template: str | None = None,
    instructions: str | None = None,
    grade_pattern: str = DEFAULT_GRADE_PATTERN,
    partial_credit: bool = False,
    role: str | list[str] = "grader",
) -> Scorer:
    """The grader checks the answer's facts against the target (the expert answer).

    The template sees `{question}`, `{answer}`, `{criterion}`, `{instructions}` and the sample's
    metadata. The last match of `grade_pattern` is the grade (its first group that took part in
    the match, else the whole match); P counts as I without partial credit.
    A reply without a grade scores I (with the reason) rather than failing the sample. `role` may
    name several roles; every model playing them grades and the majority wins.
    """
    return _model_graded(
        "model_graded_fact",
        DEFAULT_MODEL_GRADED_FACT_TEMPLATE,
        template,
        instructions,
        grade_pattern,
        partial_credit,
        role,
    )


@scorers.register("model_graded_qa", _GRADER_TEMPLATE)
def model_graded_qa(
    template: str | None = None,
    instructions: str | None = None,
    grade_pattern: str = DEFAULT_GRADE_PATTERN,
    partial_credit: bool = False,
    role: str | list[str] = "grader",
) -> Scorer:
    """The grader judges whether the answer meets the target read as a criterion (a rubric)."""
    return _model_graded(
        "model_graded_qa",
        DEFAULT_MODEL_GRADED_QA_TEMPLATE,
        template,
        instructions,
        grade_pattern,
        partial_credit,
        role,
    )
