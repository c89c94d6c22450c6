"""Evaluate a gate: every check on every run it names, and each run against its baseline.

Verdicts: PASS, FAIL, INCONCLUSIVE (the data cannot tell: too few samples, or an interval that
straddles the line), SKIP (the check does not apply to that run). The gate's verdict is the worst
of them; exit codes 0 (PASS), 1 (FAIL), 3 (INCONCLUSIVE); 2 stays a bad config.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from engine.compare import (
    Comparison,
    RunRecord,
    mean_interval,
    per_sample,
    percentile,
    run_cost,
    wilson,
)
from engine.config import RUN_METRICS, Check, GateConfig, parse_check
from engine.gate._baseline import GateError, Paired, pair_runs, paired
from engine.gate._reliability import Reliability, reliability

PASS, FAIL, INCONCLUSIVE, SKIP = "PASS", "FAIL", "INCONCLUSIVE", "SKIP"
EXIT_CODES = {PASS: 0, FAIL: 1, INCONCLUSIVE: 3}


@dataclass
class Outcome:
    """One check on one run: one JUnit test case."""

    check: str
    run: str
    """The run's task and label (`theory_of_mind / openai/gpt-4o`)."""
    kind: str
    """threshold | baseline | grader."""
    verdict: str
    message: str
    value: float | None = None
    low: float | None = None
    high: float | None = None
    log: str = ""
    paired: Paired | None = None


@dataclass
class GateResult:
    outcomes: list[Outcome]
    comparison: Comparison
    reliability: dict[str, Reliability] = field(default_factory=dict)
    """By run name, for runs with anything to say about their grader."""
    config: GateConfig = field(default_factory=GateConfig)
    baseline: str | None = None

    @property
    def verdict(self) -> str:
        verdicts = {o.verdict for o in self.outcomes}
        if FAIL in verdicts:
            return FAIL
        if INCONCLUSIVE in verdicts:
            return INCONCLUSIVE
        return PASS

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]


def run_name(run: RunRecord) -> str:
    return f"{run.task} / {run.label or run.model}"


def _measure(
    run: RunRecord, metric: str, clusters: dict[str, str] | None, prices: dict[str, Any] | None
) -> tuple[float, float | None, float | None]:
    """(value, low, high) of a run metric; GateError when the log does not have it."""
    if metric in ("accuracy", "score"):
        means = per_sample(run.scores)
        ids = list(means)
        values = [means[i] for i in ids]
        if not values:
            raise GateError(f"{run.path}: no scored sample to measure {metric} on")
        labels = [clusters.get(i, f"\0{i}") for i in ids] if clusters else None
        _, low, high = mean_interval(values, labels)
        return (math.fsum(values) / len(values), low, high)
    if metric == "error_rate":
        if not run.samples:
            raise GateError(f"{run.path}: no sample to measure the error rate on")
        low, high = wilson(run.errors, run.samples)
        return (run.errors / run.samples, low, high)
    if metric == "errors":
        return (float(run.errors), None, None)
    if metric == "samples":
        return (float(run.samples), None, None)
    if metric == "cost":
        cost = run_cost(run.usage, prices if prices is not None else run.prices, run.batched)
        if cost is None:
            models = ", ".join(run.usage) or "none"
            raise GateError(f"{run.path}: no price for every model it used ({models}); add prices")
        return (cost, None, None)
    if metric in ("latency_p50", "latency_p95"):
        return (percentile(run.latencies, 0.5 if metric.endswith("50") else 0.95), None, None)
    if metric in run.metrics:
        return (run.metrics[metric], None, None)
    from engine.config import suggest

    known = sorted({*RUN_METRICS, *run.metrics})
    raise GateError(
        f"{run.path}: no metric '{metric}'{suggest(metric, known)} (known: {', '.join(known)})"
    )


def _verdict(check: Check, value: float, low: float | None, high: float | None, mode: str) -> str:
    if mode == "interval" and low is not None and high is not None and not math.isnan(low):
        ends = [check.holds(low), check.holds(high)]
        return PASS if all(ends) else FAIL if not any(ends) else INCONCLUSIVE
    return PASS if check.holds(value) else FAIL


def _describe(value: float, low: float | None, high: float | None) -> str:
    if low is None or high is None or math.isnan(low):
        return f"{value:.4g}"
    return f"{value:.4g} [{low:.4g}, {high:.4g}]"


def _threshold(
    check: Check,
    runs: list[RunRecord],
    config: GateConfig,
    prices: dict[str, Any] | None,
    graders: dict[str, Reliability],
) -> list[Outcome]:
    chosen = [run for run in runs if fnmatchcase(run.task, check.tasks)]
    outcomes = []
    for run in chosen:
        name = run_name(run)
        low: float | None
        high: float | None
        if check.grader:
            estimate = graders[name].metric(check.metric)
            if estimate is None or math.isnan(estimate.value):
                continue  # this run has no panel / no human grades / no repeated answers
            value, low, high = estimate.value, estimate.low, estimate.high
        else:
            value, low, high = _measure(run, check.metric, run.clusters(config.cluster), prices)
        verdict = _verdict(check, value, low, high, config.thresholds)
        outcomes.append(
            Outcome(
                check.text,
                name,
                "grader" if check.grader else "threshold",
                verdict,
                f"{check.metric} = {_describe(value, low, high)}, needs {check.op} {check.value:g}",
                value,
                low,
                high,
                str(run.path),
            )
        )
    if not outcomes:
        what = "runs" if not chosen else "runs that measure it"
        outcomes.append(
            Outcome(check.text, check.tasks, "grader" if check.grader else "threshold", FAIL,
                    f"no {what} match '{check.tasks}' (tasks: "
                    f"{', '.join(sorted({r.task for r in runs})) or 'none'})")
        )  # fmt: skip
    return outcomes


def baseline_outcome(run: RunRecord, base: RunRecord | None, config: GateConfig) -> Outcome:
    name = run_name(run)
    check = f"{run.task} vs baseline (margin {config.margin:g})"
    if base is None:
        return Outcome(
            check, name, "baseline", SKIP, "no baseline run of this task", log=str(run.path)
        )
    result = paired(run, base, run.clusters(config.cluster) or base.clusters(config.cluster),
                    config.alpha, config.power)  # fmt: skip
    level = f"{1 - config.alpha:.0%}"
    summary = (
        f"Δ = {result.difference:+.4f} ({result.before:.4f} → {result.after:.4f}), {level} CI "
        f"[{result.low:+.4f}, {result.high:+.4f}], MDE {result.mde:.4f} at {config.power:.0%} "
        f"power, {result.test} p = {result.p_value:.3g}, n = {result.shared}"
        + (f" in {result.clustered} clusters" if result.clustered else "")
    )
    margin = config.margin
    if result.shared < config.min_samples:
        verdict = INCONCLUSIVE
        why = f"only {result.shared} shared samples (min_samples {config.min_samples})"
    elif result.low > -margin:
        verdict, why = PASS, f"the interval rules out a drop larger than {margin:g}"
    elif result.high < 0 and result.difference < -margin:
        verdict, why = FAIL, f"a real drop, larger than the margin {margin:g}"
    else:
        verdict = INCONCLUSIVE
        why = f"the interval reaches below −{margin:g}: too few samples to tell"
        spread = result.stderr * math.sqrt(result.shared)
        if margin > 0 and spread > 0:
            from engine.compare import normal_quantile

            needed = math.ceil((normal_quantile(1 - config.alpha / 2) * spread / margin) ** 2)
            why += f" (about {needed} shared samples would settle it at this spread)"
    return Outcome(check, name, "baseline", verdict, f"{why}; {summary}", result.difference,
                   result.low, result.high, str(run.path), result)  # fmt: skip


def evaluate(
    config: GateConfig,
    current: Comparison,
    baseline: Comparison | None = None,
    prices: dict[str, Any] | None = None,
    baseline_name: str | None = None,
) -> GateResult:
    """Every check and the baseline comparison; GateError when a check cannot be measured."""
    runs = current.runs
    graders = {run_name(run): reliability(run, config.human_grade) for run in runs}
    outcomes: list[Outcome] = []
    for text in config.checks:
        outcomes += _threshold(parse_check(text), runs, config, prices, graders)
    if baseline is not None:
        for run, base in pair_runs(runs, baseline.runs):
            outcomes.append(baseline_outcome(run, base, config))
    return GateResult(
        outcomes,
        current,
        {name: found for name, found in graders.items() if not found.empty},
        config,
        baseline_name,
    )
