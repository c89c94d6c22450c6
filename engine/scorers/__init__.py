"""Scorers judge one sample's answer; metrics reduce the scores of all samples to numbers."""

from engine.scorers._builtins import includes, match, model_graded_fact, normalise
from engine.scorers._metrics import accuracy, mean, std, stderr
from engine.scorers._registry import metrics, scorers
from engine.scorers._score import (
    CORRECT,
    INCORRECT,
    NOANSWER,
    PARTIAL,
    Metric,
    Score,
    Scorer,
    ScoreValue,
    value_to_float,
)

__all__ = [
    "CORRECT",
    "INCORRECT",
    "NOANSWER",
    "PARTIAL",
    "Metric",
    "Score",
    "ScoreValue",
    "Scorer",
    "accuracy",
    "includes",
    "match",
    "mean",
    "metrics",
    "model_graded_fact",
    "normalise",
    "scorers",
    "std",
    "stderr",
    "value_to_float",
]
