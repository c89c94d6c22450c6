"""What a run cost, from the price table the user keeps in config (`prices:`)."""

from __future__ import annotations

from collections.abc import Collection
from fnmatch import fnmatchcase
from typing import Any

PER = 1_000_000
"""Prices are per million tokens."""


def find_price(prices: dict[str, Any], model: str) -> dict[str, Any] | None:
    """The exact model string, else the longest matching glob, else its provider."""
    if model in prices:
        return dict(prices[model])
    globs = [key for key in prices if any(c in key for c in "*?[") and fnmatchcase(model, key)]
    if globs:
        return dict(prices[max(globs, key=len)])
    provider = model.split("/", 1)[0]
    return dict(prices[provider]) if provider in prices else None


def usage_cost(usage: dict[str, int], price: dict[str, Any], batched: bool = False) -> float:
    """Cached input tokens at `cached_input` (else `input`), the rest of input at `input`; with
    `batched`, input and output at the batch prices where the table has them."""
    input_price = price["input"]
    output_price = price["output"]
    if batched:
        input_price = (
            price.get("batch_input") if price.get("batch_input") is not None else input_price
        )
        output_price = (
            price.get("batch_output") if price.get("batch_output") is not None else output_price
        )
    cached = int(usage.get("input_tokens_cache_read") or 0)
    fresh = max(0, int(usage.get("input_tokens") or 0) - cached)
    cached_price = price.get("cached_input")
    if cached_price is None:
        cached_price = input_price
    output = int(usage.get("output_tokens") or 0)
    return (fresh * input_price + cached * cached_price + output * output_price) / PER


def run_cost(
    usage: dict[str, dict[str, int]], prices: dict[str, Any], batched: Collection[str] = ()
) -> float | None:
    """The cost of every model a run used (those in `batched` at batch prices); None when any
    used model has no price."""
    total = 0.0
    for model, used in usage.items():
        if not used.get("total_tokens") and not used.get("input_tokens"):
            continue
        price = find_price(prices, model)
        if price is None:
            return None
        total += usage_cost(used, price, model in batched)
    return total
