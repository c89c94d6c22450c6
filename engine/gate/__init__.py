"""Gate merges on evidence: thresholds and a baseline kept in git, honest statistics (clustered
errors, power, INCONCLUSIVE), and graders whose reliability is measured."""

from engine.config import Check, parse_check
from engine.gate._baseline import GateError, Paired, pair_runs, paired, resolve_baseline
from engine.gate._command import apply_gate, gate_command
from engine.gate._evaluate import (
    FAIL,
    INCONCLUSIVE,
    PASS,
    SKIP,
    GateResult,
    Outcome,
    evaluate,
)
from engine.gate._reliability import Estimate, Reliability, reliability
from engine.gate._render import reliability_html, to_html, to_junit, to_markdown, to_text

__all__ = [
    "FAIL",
    "INCONCLUSIVE",
    "PASS",
    "SKIP",
    "Check",
    "Estimate",
    "GateError",
    "GateResult",
    "Outcome",
    "Paired",
    "Reliability",
    "apply_gate",
    "evaluate",
    "gate_command",
    "pair_runs",
    "paired",
    "parse_check",
    "reliability",
    "reliability_html",
    "resolve_baseline",
    "to_html",
    "to_junit",
    "to_markdown",
    "to_text",
]
