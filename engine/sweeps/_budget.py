"""A sweep's budget when a launcher runs its jobs in separate processes (joblib, Slurm, Ray).

In process, the jobs share one `Budget`. Apart, they cannot see each other's spend, so the sweep's
cap is split before they start: each job gets a share in proportion to its whole estimated cost
(or tokens), as the plan counts it, and runs with that share as its own cap. Together they stay
within the sweep's cap; a resumed job's earlier spend counts against its share, and the same cap
gives the same shares again, so a re-run with a higher cap continues every job.
"""

from __future__ import annotations

from collections.abc import Mapping

from engine.config import RunConfig
from engine.runner import EvalPlan, estimate_plans


def budget_shares(config: RunConfig, plans: Mapping[int, EvalPlan]) -> dict[int, list[str]]:
    """Job index → the overrides that give it its share of `config.budget` (none: no budget)."""
    caps = {"cost": config.budget.cost, "tokens": config.budget.tokens}
    if not plans or all(cap is None for cap in caps.values()):
        return {}
    estimates = dict(
        zip(plans, estimate_plans([("", plan) for plan in plans.values()]), strict=True)
    )
    weights: dict[str, dict[int, float]] = {"cost": {}, "tokens": {}}
    for index, estimate in estimates.items():
        cost, tokens = estimate.per_sample()
        units = estimate.samples * estimate.epochs
        weights["cost"][index] = (cost or 0.0) * units
        weights["tokens"][index] = tokens * units
    shares: dict[int, list[str]] = {index: [] for index in plans}
    for key, cap in caps.items():
        if cap is None:
            continue
        total = sum(weights[key].values())
        for index, weight in weights[key].items():
            share = cap * weight / total if total > 0 else cap / len(plans)
            value = f"{share:.10g}" if key == "cost" else str(int(share))
            shares[index].append(f"budget.{key}={value}")
    return shares
