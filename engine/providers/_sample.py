"""The sample being run, as the runner sets it per sample: what `Model` counts usage and cache
hits into, what the response cache and batch custom ids key on, and what `mockllm/` answers."""

from __future__ import annotations

from contextvars import ContextVar

from engine.messages import ModelUsage

__all__ = ["sample_cache_hits", "sample_epoch", "sample_key", "sample_target", "sample_usage"]

sample_usage: ContextVar[dict[str, ModelUsage] | None] = ContextVar("sample_usage", default=None)
"""Set by the runner for each sample, so usage is recorded per sample and per model."""

sample_cache_hits: ContextVar[dict[str, int] | None] = ContextVar("sample_cache_hits", default=None)
"""Set by the runner for each sample: cache hits per model (a model may serve several evals)."""

sample_epoch: ContextVar[int] = ContextVar("sample_epoch", default=1)
"""The epoch of the sample being run (the response cache keys on it when `per_epoch`)."""

sample_key: ContextVar[str] = ContextVar("sample_key", default="")
"""The id of the sample being run: batch mode hashes it (with the epoch) into custom ids."""

sample_target: ContextVar[list[str] | None] = ContextVar("sample_target", default=None)
"""The target of the sample being run: what `mockllm/` answers with by default."""
