"""Scores and their conversion to numbers for metrics."""

from __future__ import annotations

import math
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


def value_to_float(value: ScoreValue | None) -> float:
    """Inspect's `value_to_float()`: the letters C/I/P/N exactly, numbers and booleans as they are,
    the strings yes/true and no/false (any case), and finite numeric strings; anything else is 0."""
    if isinstance(value, str) and value in _LETTER_VALUES:
        return _LETTER_VALUES[value]
    if isinstance(value, bool | int | float):
        return float(value)
    if isinstance(value, str):
        lowered = value.lower()
        if lowered in ("yes", "true"):
            return 1.0
        if lowered in ("no", "false"):
            return 0.0
        try:
            number = float(lowered)
        except ValueError:
            return 0.0
        return number if math.isfinite(number) else 0.0
    return 0.0


Scorer = Callable[[TaskState], Awaitable[Score]]
Metric = Callable[[list[float]], float]
