"""Text scorers: `match` and `includes`, with Inspect AI 0.3.285's semantics.

`match` compares the stripped, case-folded reply with each target after trimming ASCII punctuation
and whitespace at both ends; with `numeric`, a target that is a number is compared by value with
the number words of the reply. Three deliberate differences from Inspect (README, "Differences
from Inspect AI"): a text target must sit on word boundaries ("4" does not end "14"), a target
that is empty after trimming matches nothing, and numbers are equal only by exact value.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Callable
from decimal import Decimal
from typing import Literal

from engine.scorers._numbers import read_number, strip_numeric_punctuation
from engine.scorers._registry import scorers
from engine.scorers._score import CORRECT, INCORRECT, Score, Scorer
from engine.solvers import TaskState

Location = Literal["begin", "end", "any", "exact"]

_LOCATIONS: tuple[Location, ...] = ("begin", "end", "any", "exact")
_UNSPACED_SCRIPTS = ("CJK", "HIRAGANA", "KATAKANA", "HALFWIDTH", "THAI", "LAO", "KHMER", "MYANMAR")
"""Scripts written without spaces between words: no word boundary is needed inside them."""


def _completion(state: TaskState) -> str:
    return state.output.completion if state.output is not None else ""


def strip_punctuation(text: str) -> str:
    """ASCII whitespace and punctuation trimmed at both ends (Inspect's `strip_punctuation`)."""
    return text.strip(string.whitespace + string.punctuation)


def _joins(char: str) -> bool:
    """Whether `char` continues a word (a letter, digit or `_` of a script that uses spaces)."""
    if not (char.isalnum() or char == "_"):
        return False
    return not unicodedata.name(char, "").startswith(_UNSPACED_SCRIPTS)


def _glued(text: str, index: int, edge: str, step: int) -> bool:
    """Whether `text[index]`, next to a target whose edge character is `edge`, continues the
    target's word: a joining character beside a joining edge, or a decimal point or group comma
    between digits ("4" is not a whole number in "3.4")."""
    if not 0 <= index < len(text) or not _joins(edge):
        return False
    char = text[index]
    if _joins(char):
        return True
    beyond = index + step
    return edge.isdigit() and char in ".," and 0 <= beyond < len(text) and text[beyond].isdigit()


def _find_on_boundaries(value: str, target: str, location: Location) -> bool:
    """`target` in `value` at `location`, not glued to the words around it."""
    if location == "exact":
        return value == target
    starts = {
        "begin": [0] if value.startswith(target) else [],
        "end": [len(value) - len(target)] if value.endswith(target) else [],
        "any": [m.start() for m in re.finditer(f"(?={re.escape(target)})", value)],
    }[location]
    return any(
        not _glued(value, start - 1, target[0], -1)
        and not _glued(value, start + len(target), target[-1], 1)
        for start in starts
    )


def _number_words(text: str) -> list[tuple[str, Decimal]]:
    """The whitespace-separated words of `text` that are numbers, as written and as values."""
    found = []
    for word in re.split(r"\s+", text):
        value = read_number(word)
        if value is not None:
            found.append((word, value))
    return found


def _match_number(value: str, target: Decimal, location: Location) -> tuple[str, str, bool]:
    """(what was read, where from, equal?) for a numeric target."""
    value = strip_numeric_punctuation(value)
    if location == "exact":
        whole = read_number(value, trim_punctuation=False)
        return value, "the whole reply", whole is not None and whole == target
    words = _number_words(value)
    if location == "any":
        hits = [written for written, number in words if number == target]
        read = hits[0] if hits else ", ".join(written for written, _ in words)
        return read, "the numbers in the reply", bool(hits)
    if not words:
        return "", "no number in the reply", False
    written, number = words[0] if location == "begin" else words[-1]
    where = "the first number" if location == "begin" else "the last number"
    return written, where, number == target


def _check_target(
    reply: str, target: str, location: Location, ignore_case: bool, numeric: bool
) -> tuple[bool, str, str]:
    """(matched?, a sentence saying what was compared, the answer read) for one target."""
    value, wanted = reply.strip(), target.strip()
    if ignore_case:
        value, wanted = value.casefold(), wanted.casefold()
    number = read_number(strip_numeric_punctuation(wanted)) if numeric else None
    if number is not None:
        read, where, equal = _match_number(value, number, location)
        note = f"read {read!r} ({where}) and compared it with the number {number}: "
        return equal, note + ("equal" if equal else "not equal"), read
    value, wanted = strip_punctuation(value), strip_punctuation(wanted)
    if not wanted:
        note = f"target {target!r} is empty after trimming punctuation: it matches nothing"
        return False, note, reply.strip()
    found = _find_on_boundaries(value, wanted, location)
    place = {"begin": "at the start of", "end": "at the end of", "any": "in", "exact": "as"}
    note = f"looked for {wanted!r} as whole words {place[location]} {value!r}: "
    return found, note + ("found" if found else "not found"), reply.strip()


def _score_targets(state: TaskState, check: Callable[[str, str], tuple[bool, str, str]]) -> Score:
    completion = _completion(state)
    notes, answer = [], completion.strip()
    for target in state.sample.targets:
        matched, note, answer = check(completion, target)
        notes.append(note)
        if matched:
            return Score(CORRECT, answer=answer, explanation=note)
    return Score(
        INCORRECT, answer=answer, explanation="; ".join(notes) or "the sample has no target"
    )


@scorers.register("match")
def match(location: Location = "end", ignore_case: bool = True, numeric: bool = False) -> Scorer:
    """A target appears at `location` of the reply (`exact`: is the whole reply).

    With `numeric`, a target that is a number (after dropping `$ € £ , * _`) is compared by value
    with the reply's number words: the first for `begin`, the last for `end`, any for `any`, the
    whole reply for `exact`. Text targets (and non-numeric targets) match on word boundaries.
    """
    if location not in _LOCATIONS:
        raise ValueError(f"location must be one of {', '.join(_LOCATIONS)}, got {location!r}")

    async def score(state: TaskState) -> Score:
        return _score_targets(
            state,
            lambda reply, target: _check_target(reply, target, location, ignore_case, numeric),
        )

    return score


@scorers.register("includes")
def includes(ignore_case: bool = True) -> Scorer:
    """A target's text appears anywhere in the reply, as a plain substring (so "4" is in "14").

    A target that is empty or only whitespace matches nothing.
    """

    def check(reply: str, target: str) -> tuple[bool, str, str]:
        value, wanted = (reply.casefold(), target.casefold()) if ignore_case else (reply, target)
        if not wanted.strip():
            return False, f"target {target!r} is empty: it matches nothing", reply
        found = wanted in value
        note = f"looked for {wanted!r} in the reply: " + ("found" if found else "not found")
        return found, note, reply

    async def score(state: TaskState) -> Score:
        return _score_targets(state, check)

    return score
