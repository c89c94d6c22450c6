"""Scorers judge one sample's answer; metrics reduce the scores of all samples to numbers."""

from engine.scorers._answers import answer, choice, exact, f1, f1_score, pattern, squad_normalise
from engine.scorers._builtins import includes, match
from engine.scorers._metrics import accuracy, bootstrap_stderr, mean, std, stderr
from engine.scorers._model_graded import majority, model_graded_fact, model_graded_qa
from engine.scorers._numbers import read_number
from engine.scorers._reducers import Reducer, check_reducers, reduce_epochs, reducers
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
    "Reducer",
    "Score",
    "ScoreValue",
    "Scorer",
    "accuracy",
    "answer",
    "bootstrap_stderr",
    "check_reducers",
    "choice",
    "exact",
    "f1",
    "f1_score",
    "includes",
    "majority",
    "match",
    "mean",
    "metrics",
    "model_graded_fact",
    "model_graded_qa",
    "pattern",
    "read_number",
    "reduce_epochs",
    "reducers",
    "scorers",
    "squad_normalise",
    "std",
    "stderr",
    "value_to_float",
]
