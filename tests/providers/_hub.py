"""What the provider tests share: fast retries, and one generate call made the way the runner
makes it (a fresh `ModelHub`, closed afterwards)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from engine.config import ConnectionConfig, GenerationConfig
from engine.messages import ChatMessage, ModelOutput
from engine.models import Model, ModelHub

__all__ = ["FAST", "generate_once"]

FAST = ConnectionConfig(backoff_base=0.01, backoff_max=0.05, max_retries=3, attempt_timeout=5.0)
"""Small backoff so retry tests take milliseconds."""


async def generate_once(
    model: str,
    messages: Sequence[ChatMessage],
    generation: GenerationConfig | None = None,
    *,
    connection: ConnectionConfig = FAST,
    model_args: dict[str, Any] | None = None,
    base_url: str | None = None,
) -> tuple[ModelOutput, Model]:
    """One generate call on `model` through a fresh hub; the output and the model (its pool and
    usage counters)."""
    hub = ModelHub(connection)
    try:
        found = hub.get(model, generation or GenerationConfig(), model_args, base_url)
        return await found.generate(list(messages)), found
    finally:
        await hub.aclose()
