"""`inspect-run plan …` and `plan=true`: print what each job would send and cost; send nothing."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import anyio

from engine.runner._estimate import (
    CHARS_PER_TOKEN,
    DEFAULT_OUTPUT_TOKENS,
    TOKEN_ERROR,
    JobEstimate,
    estimate_job,
)
from engine.runner._interrupt import run_interruptible
from engine.runner._plan import EvalPlan


def estimate_plans(plans: Sequence[tuple[str, EvalPlan]]) -> list[JobEstimate]:
    """Each (label, plan) estimated; the plans' hubs are closed after (no client was used)."""

    async def run() -> list[JobEstimate]:
        try:
            return [await estimate_job(plan, label=label) for label, plan in plans]
        finally:
            with anyio.CancelScope(shield=True):
                for hub in {id(p.hub): p.hub for _, p in plans}.values():
                    await hub.aclose()

    return run_interruptible(run)


def _money(cost: float | None) -> str:
    return "no price" if cost is None else f"${cost:,.4f}"


def render_text(estimates: Sequence[JobEstimate], reused: Sequence[str] = ()) -> str:
    lines = []
    for index, job in enumerate(estimates, start=1):
        title = f"task={job.task} model={job.model}"
        if job.label and job.label != job.model:
            title += f" ({job.label})"
        lines.append(
            f"job {index}/{len(estimates)}: {title}: {job.samples} samples × {job.epochs} "
            f"epoch{'s' if job.epochs != 1 else ''}"
        )
        header = ("role", "model", "requests", "cached", "batched", "input tok", "output tok")
        rows = [[*header, "cost"]]
        for c in job.calls:
            rows.append(
                [
                    c.role,
                    c.model,
                    f"{c.requests:,}",
                    f"{c.cached:,}",
                    "yes" if c.batched else "no",
                    f"{c.input_tokens:,}",
                    f"{c.output_tokens:,}",
                    _money(c.cost),
                ]
            )
        rows.append(["total", "", f"{job.requests:,}", "", "", "", f"{job.tokens:,}", ""])
        rows[-1][-1] = _money(job.cost)
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            lines.append(
                "  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True))
            )
        for note in job.estimated[1:]:  # the first (the token estimator) is said once below
            lines.append(f"  estimate: {note}")
    for label in reused:
        lines.append(f"job {label}: already complete in its folder (reused): nothing to send")
    costs = [job.cost for job in estimates]
    total = None if any(c is None for c in costs) else sum(c or 0.0 for c in costs)
    lines.append(
        f"all jobs: {sum(j.requests for j in estimates):,} requests "
        f"({sum(c.cached for j in estimates for c in j.calls):,} cached), "
        f"{sum(j.tokens for j in estimates):,} tokens, {_money(total)}"
    )
    lines.append(
        f"estimates: input tokens = characters / {CHARS_PER_TOKEN} (±{TOKEN_ERROR:.0%} per prompt); "
        f"output tokens = max_tokens, else {DEFAULT_OUTPUT_TOKENS} (an upper bound); "
        "nothing was sent"
    )
    return "\n".join(lines)


def render_json(estimates: Sequence[JobEstimate], reused: Sequence[str] = ()) -> str:
    costs = [job.cost for job in estimates]
    document: dict[str, Any] = {
        "jobs": [job.to_json() for job in estimates],
        "reused": list(reused),
        "total": {
            "requests": sum(j.requests for j in estimates),
            "cached": sum(c.cached for j in estimates for c in j.calls),
            "tokens": sum(j.tokens for j in estimates),
            "cost": None if any(c is None for c in costs) else sum(c or 0.0 for c in costs),
        },
        "estimator": {
            "chars_per_token": CHARS_PER_TOKEN,
            "input_token_error": TOKEN_ERROR,
            "default_output_tokens": DEFAULT_OUTPUT_TOKENS,
        },
    }
    return json.dumps(document, indent=2)
