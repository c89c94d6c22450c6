"""Scores and their conversion to numbers for metrics."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from engine.solvers import TaskState

CORRECT = "C"
INCORRECT = "I"
PARTIAL = "P"
NOANSWER = "N"

_LETTER_VALUES = {CORRECT: 1.0, INCORRECT: 0.0, PARTIAL: 0.5, NOANSWER: 0.0}

ScoreValue = str | int | float | bool


@dataclass(slots=True)
class Score:
    value: ScoreValue
    answer: str | None = None
    explanation: str | None = None
    metadata: dict[str, Any] | None = None

    def as_float(self) -> float:
        return value_to_float(self.value)

    def to_log(self) -> dict[str, Any]:
        logged: dict[str, Any] = {"value": self.value}
        if self.answer is not None:
            logged["answer"] = self.answer
        if self.explanation is not None:
            logged["explanation"] = self.explanation
        if self.metadata:
            logged["metadata"] = self.metadata
        return logged


def value_to_float(value: ScoreValue) -> float:
    """C/I/P/N letters, yes/no, booleans and numbers on one numeric scale."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    letter = _LETTER_VALUES.get(value.strip().upper())
    if letter is not None:
        return letter
    lowered = value.strip().lower()
    if lowered in ("yes", "true", "correct"):
        return 1.0
    if lowered in ("no", "false", "incorrect"):
        return 0.0
    try:
        return float(lowered)
    except ValueError:
        return 0.0


Scorer = Callable[[TaskState], Awaitable[Score]]
Metric = Callable[[list[float]], float]
