"""Compare evals: a table per task sorted by score, with intervals, speed, cost and paired tests
against the best model, and a self-contained HTML report of it."""

from engine.compare._command import report_command
from engine.compare._load import RunRecord, UnreadableLog, find_logs, read_run
from engine.compare._prices import find_price, run_cost, usage_cost
from engine.compare._stats import (
    holm,
    interval,
    mcnemar_exact,
    paired_permutation,
    paired_test,
    percentile,
)
from engine.compare._table import ALPHA, Comparison, Row, compare, compare_paths

__all__ = [
    "ALPHA",
    "Comparison",
    "Row",
    "RunRecord",
    "UnreadableLog",
    "compare",
    "compare_paths",
    "find_logs",
    "find_price",
    "holm",
    "interval",
    "mcnemar_exact",
    "paired_permutation",
    "paired_test",
    "percentile",
    "read_run",
    "report_command",
    "run_cost",
    "usage_cost",
]
