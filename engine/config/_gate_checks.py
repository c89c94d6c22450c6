"""The checks a gate config lists, as text: `SUBJECT.METRIC OP NUMBER` (part of the config
language: `gate.checks` is validated with the rest of the config; `engine.gate` evaluates them).

theory_of_mind.accuracy >= 0.8      a task's mean score (every model run on it)
*.error_rate <= 0.02                every task: failed samples / samples
arc_*.cost <= 1.50                  a glob of tasks: US dollars (needs a price table)
*.latency_p95 <= 20                 seconds per sample
grader.kappa >= 0.6                 the grader panel's Fleiss' κ, on every task
theory_of_mind.grader.tpr >= 0.9    grader checks of one task
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass

from engine.registry import did_you_mean

OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": operator.eq,
}
RUN_METRICS = {
    "accuracy": "mean score (each sample's epochs averaged)",
    "score": "the same as accuracy",
    "error_rate": "failed samples / samples",
    "errors": "failed samples",
    "samples": "samples run",
    "cost": "US dollars, from the price table",
    "latency_p50": "median seconds per sample",
    "latency_p95": "95th percentile seconds per sample",
}
"""Metrics of a run; any other name is looked up among the log's own metrics (`stderr`, …)."""
GRADER_METRICS = {
    "kappa": "Fleiss' κ of the grader panel",
    "min_pair_kappa": "the lowest Cohen's κ between two graders of the panel",
    "human_agreement": "share of samples where the grade matches the person's",
    "human_kappa": "Cohen's κ between the grade and the person's",
    "tpr": "grader's C among the samples people graded C",
    "tnr": "grader's non-C among the samples people graded other than C",
    "self_agreement": "share of samples graded the same in every epoch (same answer)",
}
_CHECK = re.compile(
    r"^\s*(?P<target>[\w*?\[\]./-]+)\.(?P<metric>\w+)\s*(?P<op>>=|<=|==|>|<)\s*"
    r"(?P<value>[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?)\s*$"
)


@dataclass(frozen=True)
class Check:
    text: str
    tasks: str
    """A task name or a glob (`*` for every task)."""
    metric: str
    op: str
    value: float
    grader: bool = False

    def holds(self, measured: float) -> bool:
        return OPERATORS[self.op](measured, self.value)


def parse_check(text: str) -> Check:
    """A check from its text; ValueError saying what was expected (with a did-you-mean)."""
    found = _CHECK.match(text)
    if found is None:
        raise ValueError(
            f"cannot read check {text!r}: expected TASK.METRIC OP NUMBER, e.g. "
            "'theory_of_mind.accuracy >= 0.8', '*.error_rate <= 0.05' or 'grader.kappa >= 0.6'"
        )
    target, metric = found["target"], found["metric"]
    grader = target == "grader" or target.endswith(".grader")
    if grader:
        if metric not in GRADER_METRICS:
            raise ValueError(
                f"unknown grader metric '{metric}' in {text!r}"
                f"{did_you_mean(metric, list(GRADER_METRICS))} (known: {', '.join(GRADER_METRICS)})"
            )
        target = "*" if target == "grader" else target.removesuffix(".grader")
    return Check(text.strip(), target, metric, found["op"], float(found["value"]), grader)
