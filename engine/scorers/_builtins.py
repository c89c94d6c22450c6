"""Text scorers: `match` and `includes`, and the normalisation and number reading they share.

Text is compared after light normalisation (whitespace collapsed, punctuation trimmed at the ends,
case folded) because models wrap the same answer in different prose; `match` also respects word
boundaries, so a target "4" does not match "14".
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Literal

from engine.scorers._registry import scorers
from engine.scorers._score import CORRECT, INCORRECT, Score, Scorer
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
