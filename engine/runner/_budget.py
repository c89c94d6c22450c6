"""A cap in money and/or tokens for a run, or for every job of a sweep together.

Before a sample starts, the spend so far plus what the samples in flight and this one are expected
to cost must stay within the cap; otherwise no new sample starts, those in flight finish, and the
run ends `error` (resumable) saying why. A sample is expected to cost what this job's samples cost
on average so far, else the plan's estimate (`engine.runner._estimate`) before the first is done.
Spend counts the usage the log records, answers from the response cache included (conservative).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.config import BudgetConfig, Problem, RunConfig
from engine.messages import ModelUsage


class Budget:
    """The caps and what was spent and set aside against them (shared by a sweep's jobs)."""

    def __init__(self, settings: BudgetConfig, prices: Mapping[str, Any]) -> None:
        self.cost_cap = settings.cost
        self.token_cap = settings.tokens
        self.prices = dict(prices)
        self.cost = 0.0
        self.tokens = 0
        self.reserved_cost = 0.0
        self.reserved_tokens = 0.0
        self.reason: str | None = None

    @classmethod
    def of(cls, config: RunConfig) -> Budget | None:
        if config.budget.cost is None and config.budget.tokens is None:
            return None
        return cls(config.budget, config.prices)

    def spend(self, usage: Mapping[str, ModelUsage], batched: set[str]) -> None:
        from engine._prices import usage_cost
        from engine.runner._estimate import price_of

        for name, used in usage.items():
            self.tokens += used.input_tokens + used.output_tokens
            price = price_of(self.prices, name)
            if price is not None:
                self.cost += usage_cost(used.to_log(), price, name in batched)

    def admit(self, cost: float, tokens: float, remaining: int) -> bool:
        """Whether a sample expected to cost (`cost`, `tokens`) may start; sets `reason` if not."""
        if self.reason is not None:
            return False
        if self.cost_cap is not None and self.cost + self.reserved_cost + cost > self.cost_cap:
            self.reason = (
                f"budget reached: ${self.cost:.4f} spent of budget.cost=${self.cost_cap:g} "
                f"(${cost:.4f} a sample expected, ${self.reserved_cost:.4f} in flight)"
            )
        elif self.token_cap is not None and (
            self.tokens + self.reserved_tokens + tokens > self.token_cap
        ):
            self.reason = (
                f"budget reached: {self.tokens:,} tokens spent of budget.tokens={self.token_cap:,} "
                f"({tokens:,.0f} a sample expected, {self.reserved_tokens:,.0f} in flight)"
            )
        if self.reason is not None:
            self.reason += (
                f"; {remaining} samples not done; the same command with a higher budget continues"
            )
            return False
        self.reserved_cost += cost
        self.reserved_tokens += tokens
        return True

    def release(self, cost: float, tokens: float) -> None:
        self.reserved_cost -= cost
        self.reserved_tokens -= tokens


class JobBudget:
    """One job's view of a budget: its own expected cost per sample."""

    def __init__(self, budget: Budget, batched: set[str], cost: float | None, tokens: float):
        self.budget = budget
        self.batched = batched
        self.planned = (cost or 0.0, tokens)
        self.done = 0
        self.cost = 0.0
        self.tokens = 0

    def expected(self) -> tuple[float, float]:
        if self.done == 0:
            return self.planned
        return self.cost / self.done, self.tokens / self.done

    def finished(self, usage: Mapping[str, ModelUsage]) -> None:
        before = self.budget.cost, self.budget.tokens
        self.budget.spend(usage, self.batched)
        self.cost += self.budget.cost - before[0]
        self.tokens += self.budget.tokens - before[1]
        self.done += 1


def price_problems(config: RunConfig, models: list[str], locate: Any) -> list[Problem]:
    """`budget.cost` needs a price for every paid model the eval uses."""
    if config.budget.cost is None:
        return []
    from engine.runner._estimate import price_of

    return [
        Problem(
            "budget.cost",
            f"budget.cost needs a price for {name}, and the price table has none: add "
            f"prices.{name} (or prices.{name.split('/', 1)[0]}) with input and output in US "
            "dollars per million tokens",
            locate("budget.cost"),
        )
        for name in dict.fromkeys(models)
        if price_of(config.prices, name) is None
    ]
