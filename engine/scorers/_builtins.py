"""Built-in scorers: `match`, `includes` and `model_graded_fact`.

Text is compared after light normalisation (whitespace collapsed, punctuation trimmed at the ends,
case folded) because models wrap the same answer in different prose; `match` also respects word
boundaries, so a target "4" does not match "14".
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Literal

from engine.providers import user
from engine.scorers._registry import scorers
from engine.scorers._score import CORRECT, INCORRECT, PARTIAL, Score, Scorer
from engine.solvers._builtins import check_template, format_template
from engine.solvers._state import TaskState

Location = Literal["begin", "end", "any", "exact"]

_LOCATIONS: tuple[Location, ...] = ("begin", "end", "any", "exact")
_NUMBER = re.compile(
    r"(?<![\w.])(-)?[$€£]?(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)(?!\d)"
)
"""A number as written in prose: optional sign and currency, thousands separators, decimals."""
_EXTRA_TRIM = "`~"
"""Markdown marks that are not Unicode punctuation (`*` and `_` already are)."""


def _completion(state: TaskState) -> str:
    return state.output.completion if state.output is not None else ""


def _trim(text: str) -> str:
    """Drop whitespace and punctuation at both ends."""

    def trimmable(char: str) -> bool:
        return char.isspace() or char in _EXTRA_TRIM or unicodedata.category(char).startswith("P")

    start, end = 0, len(text)
    while start < end and trimmable(text[start]):
        start += 1
    while end > start and trimmable(text[end - 1]):
        end -= 1
    return text[start:end]


def normalise(text: str, ignore_case: bool = True) -> str:
    """Whitespace collapsed to single spaces, punctuation trimmed at the ends, case folded."""
    text = _trim(" ".join(text.split()))
    return text.casefold() if ignore_case else text


def _numbers(text: str) -> list[tuple[str, Decimal]]:
    """Each number in `text`, as written and as a value (1,000 == $1000 == 1000.0)."""
    found = []
    for match in _NUMBER.finditer(text):
        try:
            value = Decimal(match.group(2).replace(",", ""))
        except InvalidOperation:  # pragma: no cover - the pattern only admits valid numbers
            continue
        found.append((match.group(0), -value if match.group(1) else value))
    return found


def _as_number(text: str) -> Decimal | None:
    """The value of a text that is one number and nothing else (besides punctuation)."""
    numbers = _numbers(text)
    if len(numbers) != 1:
        return None
    rest = _trim(text.replace(numbers[0][0], " ", 1))
    return numbers[0][1] if not any(char.isalnum() for char in rest) else None


def _match_text(value: str, target: str, location: Location) -> bool:
    if not target:
        return value == target
    if location == "exact":
        return value == target
    # Word boundaries only where the target's own edge is a word character.
    before = r"(?<!\w)" if re.match(r"\w", target[0]) else ""
    after = r"(?!\w)" if re.match(r"\w", target[-1]) else ""
    pattern = {
        "begin": f"^{re.escape(target)}{after}",
        "end": f"{before}{re.escape(target)}$",
        "any": f"{before}{re.escape(target)}{after}",
    }[location]
    return re.search(pattern, value) is not None


def _match_number(completion: str, target: Decimal, location: Location) -> str | None:
    """The number in `completion` that matches `target` at `location`, as written; else None."""
    numbers = _numbers(completion)
    if location == "exact":
        exact = _as_number(completion)
        return numbers[0][0] if exact is not None and exact == target else None
    if not numbers:
        return None
    candidates = {"begin": numbers[:1], "end": numbers[-1:], "any": numbers}[location]
    return next((written for written, value in candidates if value == target), None)


@scorers.register("match")
def match(location: Location = "end", ignore_case: bool = True, numeric: bool = False) -> Scorer:
    """The target appears at `location` of the answer (`exact`: is the whole answer).

    With `numeric`, a target that is a number is compared by value with the numbers in the answer
    (the first for `begin`, the last for `end`, any for `any`).
    """
    if location not in _LOCATIONS:
        raise ValueError(f"location must be one of {', '.join(_LOCATIONS)}, got {location!r}")

    async def score(state: TaskState) -> Score:
        completion = _completion(state)
        value = normalise(completion, ignore_case)
        for target in state.sample.targets:
            number = _as_number(target) if numeric else None
            if number is not None:
                written = _match_number(completion, number, location)
                if written is not None:
                    return Score(CORRECT, answer=written)
            elif _match_text(value, normalise(target, ignore_case), location):
                return Score(CORRECT, answer=completion)
        if numeric:
            numbers = _numbers(completion)
            answer = numbers[0 if location == "begin" else -1][0] if numbers else completion
            return Score(INCORRECT, answer=answer)
        return Score(INCORRECT, answer=completion)

    return score


@scorers.register("includes")
def includes(ignore_case: bool = True) -> Scorer:
    """A target's text appears anywhere in the answer (plain substring after normalising)."""

    async def score(state: TaskState) -> Score:
        completion = _completion(state)
        value = normalise(completion, ignore_case)
        for target in state.sample.targets:
            wanted = normalise(target, ignore_case)
            if wanted and wanted in value:
                return Score(CORRECT, answer=completion)
        return Score(INCORRECT, answer=completion)

    return score


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

_INSTRUCTIONS = """\
Reason step by step about whether the submitted answer gets the facts right, then finish with a \
last line of the form "GRADE: X", where X is {letters}. Write nothing after that line."""

DEFAULT_INSTRUCTIONS = _INSTRUCTIONS.format(
    letters='C if the submission is correct or I if it is incorrect (for example "GRADE: C")'
)
DEFAULT_PARTIAL_INSTRUCTIONS = _INSTRUCTIONS.format(
    letters="C if the submission is correct, P if it is partially correct (some of the expert "
    "answer's facts, none contradicted) or I if it is incorrect"
)


@scorers.register("model_graded_fact")
def model_graded_fact(
    template: str | None = None,
    instructions: str | None = None,
    grade_pattern: str = DEFAULT_GRADE_PATTERN,
    partial_credit: bool = False,
    role: str = "grader",
) -> Scorer:
    """A grader model (the `role`, else the model under test) judges the answer against the target.

    The template sees `{question}`, `{answer}`, `{criterion}`, `{instructions}` and the sample's
    metadata. The last match of `grade_pattern` is the grade; P counts as I without partial credit.
    A reply without a grade scores I (with the reason) rather than failing the sample.
    """
    prompt_template = template if template is not None else DEFAULT_MODEL_GRADED_FACT_TEMPLATE
    check_template(prompt_template, "model_graded_fact template")
    if instructions is None:
        instructions = DEFAULT_PARTIAL_INSTRUCTIONS if partial_credit else DEFAULT_INSTRUCTIONS
    try:
        pattern = re.compile(grade_pattern)
    except re.error as error:
        raise ValueError(f"grade_pattern {grade_pattern!r} is not a valid regex: {error}") from None

    async def score(state: TaskState) -> Score:
        grader = state.role(role)
        answer = _completion(state)
        prompt = user(
            format_template(
                prompt_template,
                {
                    **state.metadata,
                    "question": state.sample.input_text,
                    "answer": answer,
                    "criterion": "\n".join(state.sample.targets),
                    "instructions": instructions,
                },
            )
        )
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
        grade = (last.group(1) if pattern.groups else last.group(0)).strip().upper()
        if grade == PARTIAL and not partial_credit:
            grade = INCORRECT
        return Score(grade, answer=answer, explanation=reply, metadata=metadata)

    return score
