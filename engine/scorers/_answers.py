"""Scorers that read an answer out of the reply: `exact`, `pattern`, `answer`, `choice`, `f1`."""

from __future__ import annotations

import re
import string
from collections import Counter
from typing import Literal

from engine.scorers._builtins import _as_number, _completion, match, normalise
from engine.scorers._registry import scorers
from engine.scorers._score import CORRECT, INCORRECT, Score, Scorer
from engine.solvers._multiple_choice import LETTERS, answer_letters
from engine.solvers._state import TaskState

AnswerKind = Literal["letter", "word", "line"]
_ANSWER_KINDS: tuple[AnswerKind, ...] = ("letter", "word", "line")
_ANSWER = re.compile(r"(?im)ANSWER\s*:\s*([^\n]*)")


def _equal(answer: str, target: str, ignore_case: bool) -> bool:
    """Equal after normalising; two numbers are equal by value (1,000 == $1000 == 1000.0)."""
    number, wanted = _as_number(answer), _as_number(target)
    if number is not None and wanted is not None:
        return number == wanted
    return normalise(answer, ignore_case) == normalise(target, ignore_case)


def _judge(answer: str, state: TaskState, ignore_case: bool = True) -> Score:
    correct = any(_equal(answer, target, ignore_case) for target in state.sample.targets)
    return Score(CORRECT if correct else INCORRECT, answer=answer)


@scorers.register("exact")
def exact(ignore_case: bool = True) -> Scorer:
    """The whole reply is the target, after normalising (numbers compared by value)."""
    return match(location="exact", ignore_case=ignore_case, numeric=True)


@scorers.register("pattern")
def pattern(pattern: str, ignore_case: bool = True, match_all: bool = False) -> Scorer:
    """A regex extracts the answer (its groups, else the whole match) from the reply.

    Correct when an extracted group equals a target (`match_all`: every group does). The last
    match in the reply counts, as models state their final answer last.
    """
    try:
        regex = re.compile(pattern, re.IGNORECASE if ignore_case else 0)
    except re.error as error:
        raise ValueError(f"pattern {pattern!r} is not a valid regex: {error}") from None

    async def score(state: TaskState) -> Score:
        found = list(regex.finditer(_completion(state)))
        if not found:
            return Score(INCORRECT, answer="", explanation="pattern not found in the reply")
        last = found[-1]
        groups = [g for g in last.groups() if g is not None] or [last.group(0)]
        hits = [
            any(_equal(group, target, ignore_case) for target in state.sample.targets)
            for group in groups
        ]
        correct = all(hits) if match_all else any(hits)
        return Score(CORRECT if correct else INCORRECT, answer=", ".join(groups))

    return score


@scorers.register("answer")
def answer(pattern: AnswerKind = "line", ignore_case: bool = True) -> Scorer:
    """The reply's last `ANSWER: X` line holds the answer: its first letter, word or whole line."""
    if pattern not in _ANSWER_KINDS:
        raise ValueError(f"pattern must be one of {', '.join(_ANSWER_KINDS)}, got {pattern!r}")

    async def score(state: TaskState) -> Score:
        lines = _ANSWER.findall(_completion(state))
        if not lines:
            return Score(INCORRECT, answer="", explanation="no 'ANSWER:' line in the reply")
        line = lines[-1].strip()
        if pattern == "letter":
            found = re.search(r"[A-Za-z]", line)
            value = found.group(0) if found else ""
        elif pattern == "word":
            value = line.split()[0] if line.split() else ""
        else:
            value = line
        return _judge(value, state, ignore_case)

    return score


@scorers.register("choice")
def choice() -> Scorer:
    """The letters chosen (read by `multiple_choice`, else from the reply) are the target letters.

    Targets are letters of the sample's choice order ("B", or ["A", "C"] for several correct).
    """

    async def score(state: TaskState) -> Score:
        count = len(state.sample.choices or LETTERS)
        chosen = state.selected_choices
        if chosen is None:
            chosen = answer_letters(_completion(state), count)
        wanted = sorted({target.strip().upper() for target in state.sample.targets})
        not_letters = [t for t in state.sample.targets if t.strip().upper() not in LETTERS[:count]]
        if not_letters:  # a dataset bug, not a wrong answer: say so in the log
            return Score(
                INCORRECT,
                answer=", ".join(chosen),
                explanation=f"target {', '.join(map(repr, not_letters))} is not a choice letter "
                f"({LETTERS[0]}-{LETTERS[count - 1]}); map targets to letters in the dataset",
            )
        correct = bool(chosen) and sorted(chosen) == wanted
        return Score(CORRECT if correct else INCORRECT, answer=", ".join(chosen))

    return score


_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation)


def _tokens(text: str) -> list[str]:
    """SQuAD's normalisation: lower case, no punctuation, no articles, single spaces."""
    return _ARTICLES.sub(" ", text.lower().translate(_PUNCTUATION)).split()


def f1_score(answer: str, target: str) -> float:
    """Token-overlap F1 between two texts (1.0 when both are empty after normalising)."""
    got, want = _tokens(answer), _tokens(target)
    if not got or not want:
        return float(got == want)
    common = sum((Counter(got) & Counter(want)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(got), common / len(want)
    return 2 * precision * recall / (precision + recall)


@scorers.register("f1")
def f1() -> Scorer:
    """Token-overlap F1 against the best-matching target: partial answers get partial credit."""

    async def score(state: TaskState) -> Score:
        completion = _completion(state)
        targets = state.sample.targets or [""]  # an empty target list: compared with nothing
        best = max(f1_score(completion, target) for target in targets)
        return Score(round(best, 6), answer=completion)

    return score
