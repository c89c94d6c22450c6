"""Compare evals: a table per task sorted by score, with intervals, speed, cost and paired tests
against the best model, and a self-contained HTML report of it."""

from engine._prices import find_price, run_cost, usage_cost
from engine.compare._command import report_command
from engine.compare._html import render_html
from engine.compare._load import RunRecord, SampleKey, UnreadableLog, find_logs, read_run
from engine.compare._stats import (
    bootstrap_interval,
    category_counts,
    cluster_permutation,
    clustered_stderr,
    cohen_kappa,
    fleiss_kappa,
    holm,
    interval,
    is_binary,
    mcnemar_exact,
    mean_interval,
    minimum_detectable_effect,
    newcombe_paired,
    normal_quantile,
    paired_permutation,
    paired_test,
    percentile,
    plain_stderr,
    wilson,
)
from engine.compare._table import ALPHA, Comparison, Row, compare, compare_paths, per_sample

__all__ = [
    "ALPHA",
    "Comparison",
    "Row",
    "RunRecord",
    "SampleKey",
    "UnreadableLog",
    "bootstrap_interval",
    "category_counts",
    "cluster_permutation",
    "clustered_stderr",
    "cohen_kappa",
    "compare",
    "compare_paths",
    "find_logs",
    "find_price",
    "fleiss_kappa",
    "holm",
    "interval",
    "is_binary",
    "mcnemar_exact",
    "mean_interval",
    "minimum_detectable_effect",
    "newcombe_paired",
    "normal_quantile",
    "paired_permutation",
    "paired_test",
    "per_sample",
    "percentile",
    "plain_stderr",
    "read_run",
    "render_html",
    "report_command",
    "run_cost",
    "usage_cost",
    "wilson",
]
