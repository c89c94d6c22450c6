"""Prices from the user's table: the most specific key wins, cached input has its own price."""

from __future__ import annotations

from engine.compare import find_price, run_cost, usage_cost

PRICES = {
    "openai/gpt-4o": {"input": 2.5, "output": 10.0, "cached_input": 1.25},
    "openai": {"input": 1.0, "output": 1.0},
    "hf-inference-providers/*": {"input": 0.2, "output": 0.2},
    "hf-inference-providers/*:groq": {"input": 0.1, "output": 0.3},
}


def test_exact_then_longest_glob_then_provider() -> None:
    assert find_price(PRICES, "openai/gpt-4o") == PRICES["openai/gpt-4o"]
    assert find_price(PRICES, "openai/o3") == PRICES["openai"]
    groq = "hf-inference-providers/openai/gpt-oss-120b:groq"
    assert find_price(PRICES, groq) == PRICES["hf-inference-providers/*:groq"]
    assert (
        find_price(PRICES, "hf-inference-providers/x:together")
        == PRICES["hf-inference-providers/*"]
    )
    assert find_price(PRICES, "anthropic/claude") is None


def test_cost_counts_cached_input_at_its_price() -> None:
    usage = {
        "input_tokens": 1_000_000,
        "input_tokens_cache_read": 400_000,
        "output_tokens": 100_000,
    }
    assert usage_cost(usage, PRICES["openai/gpt-4o"]) == 0.6 * 2.5 + 0.4 * 1.25 + 0.1 * 10.0
    assert usage_cost(usage, PRICES["openai"]) == 1.0 + 0.1  # no cached price: charged as input


def test_a_run_with_an_unpriced_model_has_no_cost() -> None:
    used = {"input_tokens": 10, "output_tokens": 1, "total_tokens": 11}
    assert run_cost({"openai/gpt-4o": used}, PRICES) == (10 * 2.5 + 10.0) / 1e6
    assert run_cost({"openai/gpt-4o": used, "anthropic/claude": used}, PRICES) is None
    assert run_cost({"anthropic/claude": {"total_tokens": 0}}, PRICES) == 0.0


def test_a_batched_run_is_priced_at_batch_prices_where_known() -> None:
    price = {"input": 2.0, "output": 8.0, "batch_input": 1.0, "batch_output": 4.0}
    usage = {"input_tokens": 1_000_000, "output_tokens": 1_000_000}
    assert usage_cost(usage, price, batched=True) == 5.0
    assert usage_cost(usage, price) == 10.0
    assert usage_cost(usage, {"input": 2.0, "output": 8.0}, batched=True) == 10.0


def test_only_the_models_that_ran_in_batches_get_batch_prices() -> None:
    prices = {
        "openai": {"input": 2.0, "output": 8.0, "batch_input": 1.0, "batch_output": 4.0},
        "vllm": {"input": 2.0, "output": 8.0, "batch_input": 1.0, "batch_output": 4.0},
    }
    used = {"input_tokens": 1_000_000, "output_tokens": 1_000_000, "total_tokens": 2_000_000}
    usage = {"openai/gpt-4o-mini": used, "vllm/qwen": used}  # vllm has no batch API
    assert run_cost(usage, prices, batched={"openai/gpt-4o-mini"}) == 5.0 + 10.0
    assert run_cost(usage, prices) == 20.0
