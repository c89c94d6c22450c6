"""Scorers that read an answer out of the reply: `exact`, `pattern`, `answer`, `choice`, `f1`.

Semantics are Inspect AI 0.3.285's, with no deliberate difference.
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from typing import Literal

from engine.scorers._builtins import _completion, strip_punctuation
from engine.scorers._registry import scorers
from engine.scorers._score import CORRECT, INCORRECT, NOANSWER, Score, Scorer
from engine.solvers import TaskState, find_answer, letter, letter_index

AnswerKind = Literal["letter", "word", "line"]
ANSWER_PATTERNS: dict[AnswerKind, str] = {
    # The last `ANSWER:` of the reply counts (models correct themselves; CoT ends with it).
    "letter": r"(?is)ANSWER\s*:\s*([A-Za-z])(?:[^\w]|\n|$)(?!.*ANSWER\s*:)",
    "word": r"(?is)ANSWER\s*:\s*(\S+?)(?=[.,;:!?]?\s*(?:\n|$))(?!.*ANSWER\s*:)",
    "line": r"(?i)ANSWER\s*:\s*([^\n]+)\s*\Z",
}


# ── exact and f1: SQuAD-style normalisation ──────────────────────────────────────────────────────


def _finite_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _without_punctuation(token: str) -> str:
    if _finite_number(token):
        return token
    stripped = strip_punctuation(token)  # "(3.14)" and "3.14." are the number 3.14
    if _finite_number(stripped):
        return stripped
    return "".join(char for char in token if char not in string.punctuation)


def _normalise_token(token: str) -> str:
    token = _without_punctuation(token.casefold())
    if _finite_number(token):
        token = str(float(token))
    token = re.sub(r"\b(a|an|the)\b", " ", token)
    return " ".join(token.split())


def squad_normalise(text: str, stop_words: list[str] | None = None) -> str:
    """Words split on spaces and hyphens, case folded, punctuation and articles dropped, numbers
    written one way (`1e3` is `1000.0`), stop words dropped: Inspect's `exact`/`f1` normalisation."""
    stops = {_normalise_token(word) for word in stop_words or []}
    tokens = (_normalise_token(token) for token in re.split(" |-", text))
    return " ".join(token for token in tokens if token.strip() and token not in stops).strip()


def f1_score(answer: str, target: str, stop_words: list[str] | None = None) -> float:
    """SQuAD token-overlap F1 (counts matter: a repeated word pays its precision cost)."""
    got = Counter(squad_normalise(answer, stop_words).split())
    want = Counter(squad_normalise(target, stop_words).split())
    common = sum((got & want).values())
    precision = common / sum(got.values()) if got else 1.0
    recall = common / sum(want.values()) if want else 1.0
    if precision == 0.0 and recall == 0.0:
        return 0.0
    return 2 * precision * recall / (precision + recall)


@scorers.register("exact")
def exact() -> Scorer:
    """The reply equals a target after SQuAD normalisation (`squad_normalise`). A target that
    normalises to nothing ("the", "-") never matches."""

    async def score(state: TaskState) -> Score:
        completion = _completion(state)
        read = squad_normalise(completion)
        wanted = [squad_normalise(target) for target in state.sample.targets]
        correct = any(target and target == read for target in wanted)
        return Score(
            CORRECT if correct else INCORRECT,
            answer=completion,
            explanation=f"normalised the reply to {read!r} and compared it with "
            f"{', '.join(map(repr, wanted)) or 'no target'}: " + ("equal" if correct else "differ"),
        )

    return score


@scorers.register("f1")
def f1(stop_words: list[str] | None = None) -> Scorer:
    """SQuAD token-overlap F1 against the best target, rounded to 2 decimals as Inspect does.

    `stop_words` are dropped from both texts first. Targets with no words after normalising are
    skipped; with none left the score is 0.
    """

    async def score(state: TaskState) -> Score:
        completion = _completion(state)
        scored = [
            (f1_score(completion, target, stop_words), target)
            for target in state.sample.targets
            if squad_normalise(target, stop_words)
        ]
        best, best_target = max(scored, key=lambda pair: pair[0], default=(0.0, None))
        read = squad_normalise(completion, stop_words)
        explanation = (
            f"words read from the reply: {read!r}; best target: "
            f"{squad_normalise(best_target, stop_words)!r} (F1 {best:.4f})"
            if best_target is not None
            else f"words read from the reply: {read!r}; no target has words to compare"
        )
        return Score(round(best, 2), answer=completion, explanation=explanation)

    return score


# ── pattern and answer ───────────────────────────────────────────────────────────────────────────


def _in_targets(text: str, targets: list[str], ignore_case: bool) -> bool:
    if ignore_case:
        return text.lower() in [target.lower() for target in targets]
    return text in targets


@scorers.register("pattern")
def pattern(pattern: str, ignore_case: bool = True, match_all: bool = False) -> Scorer:
    """A regex extracts the answer from the reply: its first match's groups (else the whole match).

    Correct when an extracted group equals a target exactly (case aside): any group, or with
    `match_all` every group that took part in the match.
    """
    return _pattern_scorer(pattern, ignore_case, match_all)


def _pattern_scorer(pattern: str, ignore_case: bool, match_all: bool) -> Scorer:
    try:
        regex = re.compile(pattern, re.IGNORECASE if ignore_case else 0)
    except re.error as error:
        raise ValueError(f"pattern {pattern!r} is not a valid regex: {error}") from None

    async def score(state: TaskState) -> Score:
        completion = _completion(state)
        found = regex.search(completion)
        if found is None:
            return Score(
                INCORRECT,
                explanation=f"pattern {pattern!r} not found in the reply: {completion!r}",
            )
        targets = state.sample.targets
        groups = [g for g in (found.groups() or (found.group(0),)) if isinstance(g, str)]
        hits = [group for group in groups if _in_targets(group, targets, ignore_case)]
        # As Inspect: an empty capture that equals an empty target reads as no answer (I).
        if match_all:
            found_match = "".join(targets) if groups and len(hits) == len(groups) else None
            answer = found_match
        else:
            found_match = hits[0] if hits else None
            answer = groups[0] if found_match is None and len(groups) == 1 else found_match
        correct = bool(found_match)
        read = ", ".join(map(repr, groups)) or "no group"
        return Score(
            CORRECT if correct else INCORRECT,
            answer=answer,
            explanation=f"read {read} from {found.group(0)!r} and compared with "
            f"{', '.join(map(repr, targets)) or 'no target'}"
            + (" (every group must match)" if match_all else "")
            + (": equal" if correct else ": no match"),
        )

    return score


@scorers.register("answer")
def answer(pattern: AnswerKind = "line", ignore_case: bool = True) -> Scorer:
    """The reply's last `ANSWER: X` holds the answer: a single letter (`letter`), one word
    (`word`, ending the line) or the rest of the last line (`line`), compared like `pattern`."""
    if pattern not in ANSWER_PATTERNS:
        raise ValueError(f"pattern must be one of {', '.join(ANSWER_PATTERNS)}, got {pattern!r}")
    return _pattern_scorer(ANSWER_PATTERNS[pattern], ignore_case, match_all=False)


# ── choice ───────────────────────────────────────────────────────────────────────────────────────


def _target_positions(targets: list[str], count: int) -> list[int]:
    """Positions named by the targets: "A", "A,C", "A, C", "AC", ["A", "C"]; numbers past Z."""
    labels: list[str] = []
    for target in targets:
        for token in target.replace(",", " ").split():
            labels.extend([token] if token.isnumeric() else list(token))
    positions = [letter_index(label) for label in labels]
    beyond = [label for label, position in zip(labels, positions, strict=True) if position >= count]
    if beyond or any(position < 0 for position in positions):
        raise ValueError(
            f"choice target {targets!r} names {', '.join(beyond) or 'a label'} beyond the "
            f"sample's {count} choices"
        )
    return positions


@scorers.register("choice")
def choice() -> Scorer:
    """The choices `multiple_choice` read from the reply are exactly the target's.

    Targets are labels of the sample's choice order: "B", or for several correct ["A", "C"],
    "A,C" or "AC". No choice read: N for an empty reply, else I.
    """

    async def score(state: TaskState) -> Score:
        count = len(state.sample.choices or [])
        if not count:
            raise ValueError("the choice scorer needs samples with choices")
        wanted = sorted(_target_positions(state.sample.targets, count))
        chosen = [letter_index(label) for label in state.selected_choices or []]
        completion = _completion(state)
        answer = ", ".join(letter(i) for i in chosen)
        target_text = ", ".join(letter(i) for i in wanted)
        if state.selected_choices is None:
            read = "no choice recorded (the choice scorer reads what multiple_choice chose)"
        else:
            found = find_answer(completion)
            read = (
                f"read {found!r} after the last ANSWER:, chose {answer or 'nothing valid'}"
                if found is not None
                else "no 'ANSWER: …' in the reply"
            )
        explanation = f"{read}; the target is {target_text}"
        if sorted(chosen) == wanted:
            return Score(CORRECT, answer=answer, explanation=explanation)
        if not chosen:
            value = NOANSWER if not completion.strip() else INCORRECT
            return Score(value, answer="", explanation=explanation)
        return Score(INCORRECT, answer=answer, explanation=explanation)

    return score
