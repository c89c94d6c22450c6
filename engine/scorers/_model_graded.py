"""Model-graded scorers: `model_graded_fact` and `model_graded_qa`.

A grader model (a role, else the model under test) reads the question, the answer and the target
and replies with a grade. A role bound to several models gives several graders; their grades are
reduced by majority, so one erratic grader does not decide a sample alone.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from engine.messages import user
from engine.models import Model
from engine.registry import Uses
from engine.scorers._builtins import _completion
from engine.scorers._registry import scorers
from engine.scorers._score import INCORRECT, Score, Scorer, value_to_float
from engine.solvers import TaskState, check_template, format_template

_GRADE_SPACING = r"[\s\u200b\u200c\u200d\u200e\u200f\u2060\u2063\ufeff]*"
DEFAULT_GRADE_PATTERN = rf"(?is).*(?<!\w)GRADE(?!\w){_GRADE_SPACING}:{_GRADE_SPACING}([CPI])"
"""The last `GRADE: X` of the grader's reply (the leading greedy `.*` skips earlier ones, such as
a grade quoted in its reasoning or injected by the submission)."""
_ANY_GRADE_PATTERN = rf"(?is).*(?<!\w)GRADE(?!\w){_GRADE_SPACING}:{_GRADE_SPACING}(\w*)"
"""The last `GRADE:` and whatever word follows, checked against the grades offered."""
_GRADE_WORDS = {"c": "C", "correct": "C", "i": "I", "incorrect": "I", "p": "P", "partial": "P"}

DEFAULT_MODEL_GRADED_QA_TEMPLATE = """
You are assessing a submitted answer on a given task based on a criterion. Here is the data:

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

{instructions}
"""

DEFAULT_MODEL_GRADED_FACT_TEMPLATE = """
You are comparing a submitted answer to an expert answer on a given question. Here is the data:

[BEGIN DATA]
************
[Question]: {question}
************
[Expert]: {criterion}
************
[Submission]: {answer}
************
[END DATA]

Compare the factual content of the submitted answer with the expert answer. Ignore any differences \
in style, grammar, or punctuation.

Does the submission contain the content in the expert answer?

{instructions}
"""


def default_instructions(partial_credit: bool) -> str:
    """Inspect's grading instructions: reason step by step, end with `GRADE: C`/`I` (or `P`)."""
    partial_letter = "P" if partial_credit else ""
    partial_prompt = '"P" for partially correct answers,' if partial_credit else ""
    return f"""
After assessing the submitted answer, reply with 'GRADE: $LETTER' (without quotes) where LETTER \
is one of C{partial_letter}I.  Please choose ONE option for the grade: either "C" for correct \
answers, {partial_prompt}or "I" for incorrect answers.

For example, after reviewing a correct answer you might write 'GRADE: C' or after reviewing an \
incorrect answer you might write 'GRADE: I'.

First, write out in a step by step manner your reasoning about the criterion to be sure that your \
conclusion is correct. Avoid simply stating the correct answers at the outset. Then, end with your \
answer formatted as 'GRADE: $LETTER' (without quotes) where LETTER is one of C{partial_letter}I.

"""


def read_grade(
    reply: str, grade_pattern: str | None, custom_instructions: bool, partial_credit: bool
) -> str | None:
    """The grade in a grader's reply, or None (no grade, or one that was not offered).

    With the default pattern, a spelled-out verdict ("GRADE: Correct") counts as its letter and any
    other word is no grade; with the default instructions too, only the grades they offered (C and
    I, plus P with `partial_credit`) count. An explicit `grade_pattern` is authoritative: the
    first of its groups that took part in the match, as written (Inspect reads only group 1).
    """
    if grade_pattern is not None:
        found = re.search(grade_pattern, reply)
        if found is None:
            return None
        return next((group for group in found.groups() if group is not None), None)
    found = re.search(DEFAULT_GRADE_PATTERN if custom_instructions else _ANY_GRADE_PATTERN, reply)
    if found is None:
        return None
    word = found.group(1).strip()
    grade = _GRADE_WORDS.get(word.lower(), word.upper() if len(word) == 1 else None)
    offered = ("C", "P", "I") if partial_credit else ("C", "I")
    if not custom_instructions and grade not in offered:
        return None
    return grade


_DELIMITER = re.compile(r"\[(BEGIN|END) DATA\]", re.IGNORECASE)


def _neutralised(value: Any) -> Any:
    """`[END DATA]` in a reply or dataset value becomes `[END-DATA]`: it cannot close the data."""
    if isinstance(value, str):
        return _DELIMITER.sub(lambda m: m.group(0).replace(" ", "-"), value)
    if isinstance(value, dict):
        return {key: _neutralised(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_neutralised(item) for item in value)
    return value


def chat_history(state: TaskState) -> str:
    """The conversation up to the last reply, as Inspect's `include_history` presents it."""
    messages = [m for m in state.messages if m.role != "system"]
    last = max((i for i, m in enumerate(messages) if m.role == "assistant"), default=None)
    if last is not None:
        messages = messages[: last + 1]
    if not messages:
        return ""
    history = [messages[0].text]
    for message in messages[1:]:
        if message.role == "user":
            history.append(f"User: {message.text}")
        elif message.role == "assistant":
            history.append("Assistant: " + message.text)
        elif message.role == "tool":
            history.append(f"Tool: {message.text}")
    return "\n\n".join(history)


def _model_graded(
    default_template: str,
    template: str | None,
    instructions: str | None,
    grade_pattern: str | None,
    include_history: bool,
    partial_credit: bool,
    role: str | list[str],
) -> Scorer:
    prompt_template = template or default_template
    check_template(prompt_template, "grading template")
    custom_instructions = bool(instructions)
    instructions = instructions or default_instructions(partial_credit)
    if grade_pattern is not None:
        try:
            if re.compile(grade_pattern).groups < 1:
                raise ValueError(f"grade_pattern {grade_pattern!r} needs a capture group")
        except re.error as error:
            raise ValueError(
                f"grade_pattern {grade_pattern!r} is not a valid regex: {error}"
            ) from None
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
        grade = read_grade(reply, grade_pattern, custom_instructions, partial_credit)
        if grade is None:
            return Score(
                INCORRECT,
                answer=answer,
                explanation=f"no grade the instructions offered in the grader's reply: {reply}",
                metadata=metadata,
            )
        return Score(grade, answer=answer, explanation=reply, metadata=metadata)

    async def score(state: TaskState) -> Score:
        graders = [model for name in roles for model in state.role_models(name)]
        answer = _completion(state)
        metadata = {
            key: value
            for key, value in state.metadata.items()
            if key not in ("question", "answer", "criterion", "instructions")
        }
        question = chat_history(state) if include_history else state.sample.input_text
        prompt_text = format_template(
            prompt_template,
            {
                **_neutralised(metadata),
                "question": _neutralised(question),
                "answer": _neutralised(answer),
                "criterion": _neutralised("".join(state.sample.targets)),
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
    grade_pattern: str | None = None,
    include_history: bool = False,
    partial_credit: bool = False,
    role: str | list[str] = "grader",
) -> Scorer:
    """The grader checks the answer's facts against the target (the expert answer).

    The template sees `{question}`, `{answer}`, `{criterion}`, `{instructions}` and the sample's
    metadata; `include_history` shows the whole conversation as the question. The grade is read by
    `read_grade`; a reply without a usable grade scores I (with the reason) rather than failing the
    sample. `role` may name several roles; every model playing them grades and the majority wins.
    """
    return _model_graded(
        DEFAULT_MODEL_GRADED_FACT_TEMPLATE,
        template,
        instructions,
        grade_pattern,
        include_history,
        partial_credit,
        role,
    )


@scorers.register("model_graded_qa", _GRADER_TEMPLATE)
def model_graded_qa(
    template: str | None = None,
    instructions: str | None = None,
    grade_pattern: str | None = None,
    include_history: bool = False,
    partial_credit: bool = False,
    role: str | list[str] = "grader",
) -> Scorer:
    """The grader judges whether the answer meets the target read as a criterion (a rubric)."""
    return _model_graded(
        DEFAULT_MODEL_GRADED_QA_TEMPLATE,
        template,
        instructions,
        grade_pattern,
        include_history,
        partial_credit,
        role,
    )
